// labkube's web page: plain JavaScript over the gateway's JSON API (/api/v1alpha1/<Method>,
// Protobuf's JSON mapping) and its server-sent events. The session cookie is HttpOnly: this
// script never sees a token, only the CSRF token it sends back on every change.
'use strict';

const state = { csrf: '', me: null, types: [], workspaces: new Map(), streams: new Map(),
                machineStream: null, history: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v; else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function show(message, ok = false) {
  const s = $('status');
  s.textContent = message;
  s.className = ok ? 'ok' : '';
  s.hidden = !message;
}

class ApiError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

async function post(path, body) {
  let r;
  try {
    r = await fetch(path, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.csrf },
      body: JSON.stringify(body || {}) });
  } catch (e) {
    throw new ApiError('UNAVAILABLE', 'cannot reach the gateway: check the connection and reload the page');
  }
  return answer(r);
}

async function answer(r) {
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON: a proxy or a dead peer */ }
  if (r.ok && data) return data;
  if (data && data.code) {
    if (data.code === 'UNAUTHENTICATED') signedOut(data.message);
    throw new ApiError(data.code, data.message);
  }
  throw new ApiError('UNAVAILABLE', `the gateway answered HTTP ${r.status}: retry, or reload the page`);
}

const api = (method, body) => post(`/api/v1alpha1/${method}`, body);

// Runs `fn`, showing its error (the gateway's own message) instead of failing silently.
async function attempt(fn, done) {
  try {
    const out = await fn();
    if (done) show(done, true);
    return out;
  } catch (e) {
    show(e.message);
    return undefined;
  }
}

// --- Session ---

function signedOut(message) {
  for (const s of state.streams.values()) s.close();
  state.streams.clear();
  if (state.machineStream) state.machineStream.close();
  state.machineStream = null;
  state.me = null;
  state.csrf = '';
  $('app').hidden = true;
  $('who').hidden = true;
  $('signin').hidden = false;
  if (message) show(message);
}

function signedIn(session) {
  state.csrf = session.csrfToken;
  state.me = session.whoAmI;
  $('who-name').textContent = `${state.me.member}${state.me.admin ? ' (admin)' : ''}`;
  $('who').hidden = false;
  $('signin').hidden = true;
  $('app').hidden = false;
  $('admin').hidden = !state.me.admin;
  if (!$('ws-name').value) $('ws-name').value = `ws-${Math.random().toString(36).slice(2, 6)}`;
  watchMachines();
  loadWorkspaces();
  loadStorage();
  loadHistory();
  if (state.me.admin) loadMembers();
}

async function start() {
  let r;
  try {
    r = await fetch('/api/session', { credentials: 'same-origin' });
  } catch (e) {
    show('cannot reach the gateway: check the connection and reload the page');
    return;
  }
  if (r.status === 401) { signedOut(''); return; }
  try { signedIn(await answer(r)); } catch (e) { show(e.message); signedOut(''); }
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  show('');
  const session = await attempt(() => post('/api/login',
      { username: $('username').value.trim(), password: $('password').value }));
  if (session) { $('password').value = ''; signedIn(session); }
});

$('logout').addEventListener('click', async () => {
  await attempt(() => post('/api/logout', {}));
  signedOut('signed out');
  $('status').className = 'ok';
});

// --- Machines ---

function gpuText(t) {
  if (!t.gpu || !t.gpu.count) return 'none';
  return `${t.gpu.model || t.gpu.resource} × ${t.gpu.count}`;
}

function ownUse(t) {
  let n = 0;
  for (const w of state.workspaces.values()) {
    if (w.machineType === t.name && w.machineGroup === t.group && w.phase !== 'PHASE_STOPPED') n++;
  }
  return n;
}

function sparkline(key, maximum) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 100 20');
  svg.setAttribute('preserveAspectRatio', 'none');
  const points = [];
  const samples = (state.history && state.history.samples) || [];
  samples.forEach((s, i) => {
    const c = s.types.find((x) => x.type === key);
    if (!c) return;
    const x = samples.length > 1 ? (i * 100) / (samples.length - 1) : 100;
    const y = 19 - (18 * c.free) / Math.max(1, c.maximum || maximum);
    points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  const title = document.createElementNS(svgNs, 'title');
  title.textContent = `free slots of ${key}, last ${samples.length} minutes`;
  svg.append(title);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title.textContent);
  if (points.length === 1) points.push(`0,${points[0].split(',')[1]}`);
  const line = document.createElementNS(svgNs, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#0a58ca');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

function renderMachines() {
  const body = $('machines').querySelector('tbody');
  body.replaceChildren();
  const select = $('ws-type');
  const chosen = select.value;
  select.replaceChildren();
  for (const t of state.types) {
    const key = `${t.group}/${t.name}`;
    body.append(el('tr', { 'data-type': key },
      el('th', { scope: 'row', text: key }), el('td', { text: gpuText(t) }),
      el('td', { text: t.cpu }), el('td', { text: t.memory }),
      el('td', { class: 'free', text: `${t.free} / ${t.maximum}` }),
      el('td', { text: String(t.waiting) }), el('td', { class: 'own', text: String(ownUse(t)) }),
      el('td', {}, sparkline(key, t.maximum))));
    select.append(el('option', { value: key, text: `${key} (${t.free} free)` }));
  }
  if (chosen) select.value = chosen;
}

function watchMachines() {
  if (state.machineStream) state.machineStream.close();
  const s = new EventSource('/api/v1alpha1/WatchMachineTypes');
  state.machineStream = s;
  s.onmessage = (ev) => {
    state.types = JSON.parse(ev.data).machineTypes || [];
    $('machines-live').textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    renderMachines();
  };
  s.addEventListener('failure', (ev) => streamFailed(s, ev, 'machines-live'));
  // Each event is one response: the browser reconnects after every one (an error event each
  // time). Only a long silence means the gateway is out of reach.
  let contact = Date.now();
  s.onopen = () => { contact = Date.now(); };
  s.addEventListener('message', () => { contact = Date.now(); });
  const timer = setInterval(() => {
    if (state.machineStream !== s || s.readyState === EventSource.CLOSED) { clearInterval(timer); return; }
    if (Date.now() - contact > 45000) $('machines-live').textContent = 'cannot reach the gateway: reconnecting…';
  }, 5000);
}

function streamFailed(stream, ev, hintId) {
  stream.close();
  const e = JSON.parse(ev.data);
  if (e.code === 'UNAUTHENTICATED') { signedOut(e.message); return; }
  show(e.message);
  if (hintId) $(hintId).textContent = `not live: ${e.message}`;
}

async function loadHistory() {
  try {
    const r = await fetch('/api/history', { credentials: 'same-origin' });
    state.history = await answer(r);
    renderMachines();
  } catch (e) { /* the chart is optional; the table says what is wrong */ }
  setTimeout(() => { if (state.me) loadHistory(); }, 60000);
}

// --- Workspaces ---

const PHASES = { PHASE_WAITING: 'waiting for a machine', PHASE_STARTING: 'starting',
  PHASE_RUNNING: 'running', PHASE_FAILED: 'failed', PHASE_STOPPING: 'stopping', PHASE_STOPPED: 'stopped' };
const KINDS = { WORKSPACE_KIND_JUPYTERLAB: 'JupyterLab', WORKSPACE_KIND_CODESERVER: 'code-server' };

function age(seconds) {
  const s = Number(seconds || 0);
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function ordinal(n) {
  const tens = n % 100, ones = n % 10;
  const suffix = tens >= 11 && tens <= 13 ? 'th'
    : ones === 1 ? 'st' : ones === 2 ? 'nd' : ones === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

// "14:20" today, else "2 May, 14:20", in the browser's time zone.
function clock(rfc3339) {
  const t = new Date(rfc3339);
  const opts = { hour: '2-digit', minute: '2-digit' };
  if (t.toDateString() !== new Date().toDateString()) Object.assign(opts, { day: 'numeric', month: 'short' });
  return t.toLocaleString([], opts);
}

// "waiting in line, 2nd of 3 (estimated 14:20)" while the workspace's pod waits for a slot.
function inLineText(w) {
  const place = Number(w.queuePosition || 0);
  if (w.phase !== 'PHASE_WAITING' || place <= 0) return '';
  const length = Math.max(Number(w.queueLength || 0), place);
  return `waiting in line, ${ordinal(place)} of ${length} ` +
    (w.estimatedStart ? `(estimated ${clock(w.estimatedStart)})` : '(no estimate)');
}

function stateText(w) {
  const line = inLineText(w);
  if (line) return line;
  let text = PHASES[w.phase] || w.phase;
  if (w.reason) text += ` (${w.reason})`;
  if (w.phase === 'PHASE_RUNNING' && w.gpuModel) text += ` · ${w.gpuModel} × ${w.gpuCount}`;
  return text;
}

function renderWorkspaces() {
  const body = $('workspaces').querySelector('tbody');
  body.replaceChildren();
  for (const w of state.workspaces.values()) {
    const link = w.phase === 'PHASE_RUNNING' && w.url
      ? el('a', { href: w.accessToken ? `${w.url}?token=${encodeURIComponent(w.accessToken)}` : w.url,
                  target: '_blank', rel: 'noopener noreferrer', text: 'open' })
      : el('span', { text: '—' });
    const stop = el('button', { type: 'button', class: 'danger', text: 'Stop',
                                'aria-label': `Stop workspace ${w.name}` });
    stop.addEventListener('click', () => stopWorkspace(w.name));
    const stateCell = el('td', { class: `state phase-${w.phase}`, text: stateText(w) });
    if (w.message && w.phase !== 'PHASE_RUNNING') stateCell.title = w.message;
    body.append(el('tr', { 'data-workspace': w.name },
      el('th', { scope: 'row', text: w.name }), el('td', { text: KINDS[w.kind] || w.kind }),
      el('td', { text: `${w.machineGroup}/${w.machineType}` }), stateCell,
      el('td', { class: 'node', text: w.node || '—' }), el('td', { text: age(w.ageSeconds) }),
      el('td', {}, link), el('td', {}, stop)));
    // In line, the state says it all but what the estimate assumes (or why there is none).
    const detail = inLineText(w) ? w.estimateNote : w.message;
    if (detail && w.phase !== 'PHASE_RUNNING') {
      body.append(el('tr', { class: 'detail' }, el('td', { colspan: '8', class: 'hint', text: detail })));
    }
  }
  if (state.workspaces.size === 0) {
    body.append(el('tr', {}, el('td', { colspan: '8', class: 'hint', text: 'no workspaces' })));
  }
  renderMachines();
}

function watchWorkspace(name) {
  if (state.streams.has(name)) return;
  const s = new EventSource(`/api/v1alpha1/WatchWorkspace?name=${encodeURIComponent(name)}`);
  state.streams.set(name, s);
  s.onmessage = (ev) => {
    const w = JSON.parse(ev.data);
    if (w.phase === 'PHASE_STOPPED') { forget(name); return; }
    state.workspaces.set(name, w);
    renderWorkspaces();
  };
  s.addEventListener('end', () => forget(name));
  s.addEventListener('failure', (ev) => {
    const e = JSON.parse(ev.data);
    if (e.code === 'NOT_FOUND') { forget(name); return; }
    streamFailed(s, ev, null);
    state.streams.delete(name);
  });
}

function forget(name) {
  const s = state.streams.get(name);
  if (s) s.close();
  state.streams.delete(name);
  state.workspaces.delete(name);
  renderWorkspaces();
}

async function loadWorkspaces() {
  const list = await attempt(() => api('ListWorkspaces', {}));
  if (!list) return;
  state.workspaces = new Map((list.workspaces || []).map((w) => [w.name, w]));
  for (const name of state.workspaces.keys()) watchWorkspace(name);
  renderWorkspaces();
}

$('start-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  show('');
  const request = { name: $('ws-name').value.trim(), kind: $('ws-kind').value,
                    machineType: $('ws-type').value, image: $('ws-image').value.trim() };
  const w = await attempt(() => api('StartWorkspace', request), `starting ${request.name}`);
  if (!w) return;
  state.workspaces.set(w.name, w);
  watchWorkspace(w.name);
  renderWorkspaces();
  $('ws-name').value = `ws-${Math.random().toString(36).slice(2, 6)}`;
});

async function stopWorkspace(name) {
  if (!window.confirm(`Stop workspace ${name}? Its volumes stay.`)) return;
  const done = await attempt(() => api('StopWorkspace', { name }), `stopping ${name}`);
  if (done) {
    const w = state.workspaces.get(name);
    if (w) { w.phase = 'PHASE_STOPPING'; renderWorkspaces(); }
  }
}

// --- Storage ---

async function loadStorage() {
  const s = await attempt(() => api('ListStorage', {}));
  if (!s) return;
  const body = $('storage').querySelector('tbody');
  body.replaceChildren();
  for (const v of s.volumes || []) {
    body.append(el('tr', {}, el('th', { scope: 'row', text: v.kind.replace('VOLUME_KIND_', '') }),
      el('td', { text: v.claim }), el('td', { text: v.size }), el('td', { text: v.capacity || '—' }),
      el('td', { text: v.phase + (v.resizing ? ' (resizing)' : '') }), el('td', { text: v.mountPath })));
  }
  if (!(s.volumes || []).length) {
    body.append(el('tr', {}, el('td', { colspan: '6', class: 'hint', text: 'no storage yet' })));
  }
  const b = s.backup;
  $('backup').textContent = b && b.cronjob
    ? `Backup: ${b.schedule}; last success ${b.lastSuccess || 'never'}${b.active ? '; running now' : ''}` : '';
}

$('storage-create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (await attempt(() => api('CreateStorage', { size: $('st-size').value.trim() }), 'storage created')) loadStorage();
});
$('storage-resize').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (await attempt(() => api('ResizeStorage', { size: $('st-new-size').value.trim() }), 'resize requested')) loadStorage();
});
$('storage-delete').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!window.confirm('Delete the storage? The data volume is gone for good.')) return;
  const request = { confirm: $('st-confirm').value.trim(), keepBackup: $('st-keep').checked };
  if (await attempt(() => api('DeleteStorage', request), 'storage deleted')) loadStorage();
});

// --- Members (admins) ---

function newPassword() {
  const bytes = new Uint8Array(15);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, '').slice(0, 18);
}

function showSecret(text) {
  const s = $('secret');
  s.textContent = text;
  s.hidden = false;
}

async function loadMembers() {
  const list = await attempt(() => api('ListMembers', {}));
  if (!list) return;
  const body = $('members').querySelector('tbody');
  body.replaceChildren();
  for (const m of list.members || []) {
    const ws = el('td', { class: 'member-workspaces', text: '…' });
    const reset = el('button', { type: 'button', text: 'Reset', 'aria-label': `Reset the password of ${m.name}` });
    reset.addEventListener('click', () => resetPassword(m.name));
    const del = el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete member ${m.name}` });
    del.addEventListener('click', () => deleteMember(m.name));
    body.append(el('tr', { 'data-member': m.name }, el('th', { scope: 'row', text: m.name }),
      el('td', { text: m.admin ? 'yes' : 'no' }), el('td', { text: String(m.activeSessions) }),
      ws, el('td', {}, reset), el('td', {}, del)));
    api('ListWorkspaces', { member: m.name }).then((r) => {
      const names = (r.workspaces || []).map((w) => `${w.name} (${PHASES[w.phase] || w.phase})`);
      ws.textContent = names.join(', ') || 'none';
    }, (e) => { ws.textContent = e.message; });
  }
}

$('member-create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('m-name').value.trim();
  const password = newPassword();
  const m = await attempt(() => api('CreateMember', { name, password, admin: $('m-admin').checked }));
  if (!m) return;
  show(`member ${name} created`, true);
  showSecret(`Password of ${name} (shown once, hand it over now): ${password}`);
  $('m-name').value = '';
  loadMembers();
});

async function resetPassword(name) {
  if (!window.confirm(`Give ${name} a new password? Their sessions end.`)) return;
  const password = newPassword();
  if (await attempt(() => api('SetPassword', { name, newPassword: password }), `password of ${name} reset`)) {
    showSecret(`New password of ${name} (shown once): ${password}`);
  }
}

async function deleteMember(name) {
  if (!window.confirm(`Delete member ${name}? Their sessions end; their namespace stays.`)) return;
  if (await attempt(() => api('DeleteMember', { name }), `member ${name} deleted`)) loadMembers();
}

start();
