// The web page end to end, in a real browser (Debian's chromium, headless, driven by
// playwright-core) against the running lab: a new member signs in (by keyboard), sees the live
// machine table, starts a JupyterLab workspace on a GPU type, sees it running with its node,
// opens storage, stops the workspace and sees the slot free again; a wrong password shows the
// API's error; another member's workspace is not on the page and the page's API refuses it;
// logout ends the session (the old cookie is refused). Phone width and labelled controls are
// checked. Screenshots of each step go to $TEST_UNDECLARED_OUTPUTS_DIR.
//
// Environment (tools/lab.sh env): LABKUBE_WEB, LABKUBE_GATEWAY, LABKUBE_CA,
// LABKUBE_CREDENTIALS, GRPCURL; CHROMIUM (default /usr/bin/chromium). Run by web_test.sh.
'use strict';

const { chromium, request } = require('playwright-core');
const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL setup: ${name} is not set: bring the lab up (./dev.sh up) and export ` +
      'the variables of `tools/lab.sh env` (see docs/web.md)');
    process.exit(1);
  }
  return v;
}

const WEB = need('LABKUBE_WEB');
const GATEWAY = need('LABKUBE_GATEWAY');
const CA = need('LABKUBE_CA');
const CREDENTIALS = need('LABKUBE_CREDENTIALS');
const GRPCURL = need('GRPCURL');
const OUT = process.env.TEST_UNDECLARED_OUTPUTS_DIR || fs.mkdtempSync('/tmp/web-e2e-');
let failures = 0;
let shot = 0;

function pass(name) { console.log(`PASS ${name}`); }
function check(name, ok, detail) {
  if (ok) { pass(name); return; }
  failures++;
  console.log(`FAIL ${name}: ${detail}`);
}

// A Gateway call through grpcurl, as labctl users' tools make it: {ok, json, message}.
function grpc(token, method, body) {
  const args = ['-cacert', CA, '-d', JSON.stringify(body)];
  if (token) args.push('-H', `authorization: Bearer ${token}`);
  args.push(GATEWAY, `labkube.gateway.v1alpha1.Gateway/${method}`);
  const r = spawnSync(GRPCURL, args, { encoding: 'utf8', timeout: 60000 });
  if (r.status === 0) return { ok: true, json: JSON.parse(r.stdout || '{}') };
  const m = /Message: (.*)/.exec(r.stderr || '');
  return { ok: false, message: m ? m[1] : (r.stderr || String(r.error)) };
}
function must(r, what) {
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  return r.json;
}
const tokenOf = (login) => login.accessToken || login.access_token;

function account(role) {
  const text = fs.readFileSync(CREDENTIALS, 'utf8');
  const m = new RegExp(`^${role}: \\{username: (.*), password: (.*)\\}$`, 'm').exec(text);
  if (!m) throw new Error(`no ${role} account in ${CREDENTIALS}`);
  return { username: m[1], password: m[2] };
}

async function eventually(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s (last: ${last})`);
}

async function screenshot(page, name) {
  shot++;
  await page.screenshot({ path: path.join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`),
                          fullPage: true });
}

// The page's own API from inside the page (its cookie, its CSRF token).
function pageCall(page, method, body) {
  return page.evaluate(async ([m, b]) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch(`/api/v1alpha1/${m}`, { method: 'POST', body: JSON.stringify(b),
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken } });
    return { status: r.status, body: await r.json() };
  }, [method, body]);
}

async function signInByKeyboard(page, user, password) {
  await page.goto(WEB);
  await page.waitForSelector('#signin:not([hidden])');
  for (let i = 0; i < 10; i++) {
    if (await page.evaluate(() => document.activeElement && document.activeElement.id) === 'username') break;
    await page.keyboard.press('Tab');
  }
  check('keyboard reaches the username field',
        await page.evaluate(() => document.activeElement.id) === 'username', 'Tab never got there');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

async function accessibility(page) {
  const problems = await page.evaluate(() => {
    const out = [];
    if (!document.documentElement.lang) out.push('html has no lang');
    for (const e of document.querySelectorAll('input, select, textarea')) {
      if (!e.labels || e.labels.length === 0) out.push(`${e.id || e.name} has no label`);
    }
    for (const b of document.querySelectorAll('button, a')) {
      const name = (b.getAttribute('aria-label') || b.textContent || '').trim();
      if (!name) out.push(`${b.outerHTML.slice(0, 60)} has no accessible name`);
    }
    for (const s of document.querySelectorAll('svg[role=img]')) {
      if (!s.getAttribute('aria-label')) out.push('a chart has no aria-label');
    }
    for (const t of document.querySelectorAll('table')) {
      if (!t.querySelector('caption') || !t.querySelector('th[scope]')) out.push(`table ${t.id} has no caption or header scope`);
    }
    return out;
  });
  check('every control is labelled (accessibility)', problems.length === 0, problems.join('; '));
}

function rowFree(text) { const m = /^(\d+) \/ (\d+)$/.exec(text.trim()); return m ? Number(m[1]) : -1; }

async function main() {
  const admin = account('admin');
  const adminToken = tokenOf(must(grpc('', 'Login', admin), 'admin login'));
  const hex = crypto.randomBytes(3).toString('hex');
  const a = { username: `e2e-web-${hex}a`, password: crypto.randomBytes(12).toString('base64url') };
  const b = { username: `e2e-web-${hex}b`, password: crypto.randomBytes(12).toString('base64url') };
  let browser;
  try {
    must(grpc(adminToken, 'CreateMember', { name: a.username, password: a.password }), 'create member a');
    must(grpc(adminToken, 'CreateMember', { name: b.username, password: b.password }), 'create member b');
    // Another member with a workspace of their own (a CPU type: no GPU slot taken).
    const bToken = tokenOf(must(grpc('', 'Login', b), 'member b login'));
    const types = must(grpc(bToken, 'ListMachineTypes', {}), 'machine types').machineTypes ||
                  must(grpc(bToken, 'ListMachineTypes', {}), 'machine types').machine_types;
    const cpu = types.find((t) => !t.gpu || !t.gpu.count) || types[0];
    must(grpc(bToken, 'StartWorkspace', { name: 'other', kind: 'WORKSPACE_KIND_JUPYTERLAB',
                                          machine_type: `${cpu.group}/${cpu.name}` }), 'b starts a workspace');

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                      headless: true, args: ['--no-sandbox'] });
    // The lab's CA is not in chromium's store; curl checks the certificate in web_test.sh.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());

    // Wrong password: the API's own words.
    const wrong = grpc('', 'Login', { username: a.username, password: `not-${a.password}` });
    await signInByKeyboard(page, a.username, `not-${a.password}`);
    const status = await page.waitForSelector('#status:not([hidden])');
    const shown = (await status.textContent()).trim();
    check('a wrong password shows the API\'s error', !wrong.ok && shown === wrong.message,
          `page: "${shown}", API: "${wrong.message}"`);
    await screenshot(page, 'wrong-password');

    await page.fill('#password', a.password);
    await page.press('#password', 'Enter');
    await page.waitForSelector('#app:not([hidden])', { timeout: 30000 });
    pass('the member signs in');
    await eventually('live machine table', async () =>
      (await page.textContent('#machines-live')).startsWith('live') &&
      (await page.locator('#machines tbody tr').count()) > 0, 30000);
    pass('the machine table is live');
    await accessibility(page);
    await screenshot(page, 'machines');

    // A GPU type with a free slot, from the table.
    const rows = await page.$$eval('#machines tbody tr', (trs) => trs.map((tr) => ({
      type: tr.dataset.type, gpu: tr.children[1].textContent, free: tr.querySelector('.free').textContent })));
    const gpu = rows.find((r) => r.gpu !== 'none' && rowFree(r.free) > 0);
    if (!gpu) throw new Error(`no GPU type with a free slot: ${JSON.stringify(rows)}`);
    const freeBefore = rowFree(gpu.free);
    await page.fill('#ws-name', 'nb');
    await page.selectOption('#ws-kind', 'WORKSPACE_KIND_JUPYTERLAB');
    await page.selectOption('#ws-type', gpu.type);
    await page.click('#start-form button[type=submit]');
    const row = page.locator('tr[data-workspace="nb"]');
    await eventually('workspace running with its node', async () =>
      (await row.locator('td.state').textContent()).startsWith('running') &&
      (await row.locator('td.node').textContent()) !== '—', 180000);
    const node = await row.locator('td.node').textContent();
    pass(`the workspace runs on ${node}`);
    const href = await row.locator('a').getAttribute('href');
    check('the running workspace has a link', /^https?:\/\//.test(href || ''), href);
    await eventually('own use counted', async () =>
      (await page.textContent(`#machines tr[data-type="${gpu.type}"] .own`)) === '1', 30000);
    pass('the machine table counts the member\'s own use');
    await screenshot(page, 'running');

    // Storage: the section, and the API's refusal of a resize without storage.
    await page.locator('#storage-title').scrollIntoViewIfNeeded();
    const aToken = tokenOf(must(grpc('', 'Login', a), 'member a login'));
    const apiResize = grpc(aToken, 'ResizeStorage', { size: '5Gi' });
    await page.fill('#st-new-size', '5Gi');
    await page.click('#storage-resize button');
    await eventually('resize refusal shown', async () =>
      (await page.textContent('#status')).trim() === (apiResize.message || 'ok'), 15000)
      .then(() => pass('storage shows the API\'s refusal'),
            (e) => check('storage shows the API\'s refusal', false, e.message));
    await screenshot(page, 'storage');

    // Another member's workspace: not listed, refused by the page's API with the API's words.
    check('another member\'s workspace is not on the page',
          (await page.locator('tr[data-workspace="other"]').count()) === 0, 'it is listed');
    const apiOther = grpc(aToken, 'DescribeWorkspace', { member: b.username, name: 'other' });
    const pageOther = await pageCall(page, 'DescribeWorkspace', { member: b.username, name: 'other' });
    check('the page\'s API refuses another member\'s workspace',
          pageOther.status === 403 && pageOther.body.code === 'PERMISSION_DENIED' &&
          pageOther.body.message === apiOther.message, JSON.stringify(pageOther));
    const watchOther = await page.evaluate(async (m) =>
      (await fetch(`/api/v1alpha1/WatchWorkspace?member=${m}&name=other`)).text(), b.username);
    check('its event stream is refused too', watchOther.includes('"code":"PERMISSION_DENIED"'), watchOther);

    // Stop (the confirmation is accepted) and see the slot free again.
    await page.click('button[aria-label="Stop workspace nb"]');
    await eventually('workspace gone', async () => (await row.count()) === 0, 120000);
    pass('the stopped workspace leaves the list');
    await eventually('slot free again', async () =>
      rowFree(await page.textContent(`#machines tr[data-type="${gpu.type}"] .free`)) === freeBefore, 90000);
    pass('the slot is free again');
    await screenshot(page, 'stopped');

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check('usable at phone width (no sideways scrolling)', overflow <= 1, `${overflow}px too wide`);
    await screenshot(page, 'phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Logout ends the session: the old cookie is refused (within the gateway's token cache).
    const cookie = (await context.cookies()).find((c) => c.name === '__Host-labkube-session');
    check('the session cookie is HttpOnly, Secure, SameSite=Strict',
          cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict', JSON.stringify(cookie));
    await page.click('#logout');
    await page.waitForSelector('#signin:not([hidden])');
    pass('sign out shows the sign-in form');
    await screenshot(page, 'signed-out');
    const old = await request.newContext({ ignoreHTTPSErrors: true,
      extraHTTPHeaders: { Cookie: `${cookie.name}=${cookie.value}` } });
    await eventually('old cookie refused', async () =>
      (await old.get(new URL('/api/session', WEB).toString())).status() === 401, 60000)
      .then(() => pass('the old cookie is refused after logout'),
            (e) => check('the old cookie is refused after logout', false, e.message));
    await old.dispose();
    grpc(bToken, 'StopWorkspace', { name: 'other' });
  } finally {
    if (browser) await browser.close();
    for (const m of [a, b]) grpc(adminToken, 'DeleteMember', { name: m.username, delete_namespace: true });
  }
}

main().then(() => {
  console.log(`screenshots: ${OUT}`);
  console.log(failures ? `${failures} check(s) FAILED` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}, (e) => {
  console.log(`FAIL ${e.message}`);
  console.log(`screenshots: ${OUT}`);
  process.exit(1);
});
