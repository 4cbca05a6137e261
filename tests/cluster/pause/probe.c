// A tiny static test program for pods on the local lab's real node (tests/cluster/node_test.sh):
//   probe serve PORT [NAME...]   resolve each NAME through the pod's DNS (/etc/resolv.conf), print
//                                the answers, then answer every HTTP request on PORT with
//                                "hello from HOSTNAME"; exits 0 on SIGTERM/SIGINT
//   probe resolve SERVER NAME    print NAME's A records asked of SERVER (an IPv4 address), exit 0
//                                if there is one
//   probe connect IP PORT        exit 0 if a TCP connection to IP:PORT opens within 3 s
// No libc resolver (static glibc cannot load NSS modules): one A query over UDP, by hand.
// Built static: gcc -static -Os.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

// query_a: asks SERVER for NAME's A records; prints "resolve NAME -> IP" per answer. Returns the
// number of A records (0 none, -1 no answer at all).
static int query_a(const char *server, const char *name) {
  unsigned char q[512], r[1500];
  size_t n = 0;
  uint16_t id = (uint16_t)(getpid() ^ time(NULL));
  q[n++] = id >> 8, q[n++] = id & 0xff;
  q[n++] = 0x01, q[n++] = 0x00;              // RD
  q[n++] = 0, q[n++] = 1;                    // QDCOUNT 1
  memset(q + n, 0, 6), n += 6;               // AN, NS, AR
  for (const char *p = name; *p;) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (len == 0 || len > 63 || n + len + 6 > sizeof q) return -1;
    q[n++] = (unsigned char)len;
    memcpy(q + n, p, len), n += len;
    p += len + (dot ? 1 : 0);
  }
  q[n++] = 0;
  q[n++] = 0, q[n++] = 1;  // QTYPE A
  q[n++] = 0, q[n++] = 1;  // QCLASS IN

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
  if (inet_pton(AF_INET, server, &sa.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  struct timeval tv = {.tv_sec = 1};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t got = -1;
  for (int attempt = 0; attempt < 3 && got < 0; attempt++) {
    if (sendto(fd, q, n, 0, (struct sockaddr *)&sa, sizeof sa) < 0) continue;
    for (;;) {
      got = recv(fd, r, sizeof r, 0);
      if (got < 0 || (got >= 12 && r[0] == q[0] && r[1] == q[1])) break;
    }
  }
  close(fd);
  if (got < 12) return -1;
  int rcode = r[3] & 0x0f, answers = (r[6] << 8) | r[7], found = 0;
  if (rcode != 0) {
    printf("resolve %s: rcode %d\n", name, rcode);
    return 0;
  }
  size_t at = n;  // the question is echoed as sent
  for (int i = 0; i < answers && at < (size_t)got; i++) {
    while (at < (size_t)got && r[at] != 0 && (r[at] & 0xc0) != 0xc0) at += r[at] + 1;
    at += (at < (size_t)got && (r[at] & 0xc0) == 0xc0) ? 2 : 1;
    if (at + 10 > (size_t)got) break;
    int type = (r[at] << 8) | r[at + 1], len = (r[at + 8] << 8) | r[at + 9];
    at += 10;
    if (at + len > (size_t)got) break;
    if (type == 1 && len == 4) {
      char ip[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, r + at, ip, sizeof ip);
      printf("resolve %s -> %s\n", name, ip);
      found++;
    }
    at += len;
  }
  fflush(stdout);
  return found;
}

// first_nameserver: the first "nameserver" line of /etc/resolv.conf.
static int first_nameserver(char *out, size_t size) {
  FILE *f = fopen("/etc/resolv.conf", "r");
  char line[256];
  int ok = 0;
  if (!f) return 0;
  while (!ok && fgets(line, sizeof line, f))
    ok = sscanf(line, "nameserver %63s", out) == 1 && strlen(out) < size;
  fclose(f);
  return ok;
}

static int serve(int port, int names, char **name) {
  char ns[64] = "", host[256] = "?";
  gethostname(host, sizeof host);
  if (names > 0 && !first_nameserver(ns, sizeof ns)) printf("resolve: no nameserver in /etc/resolv.conf\n");
  for (int i = 0; i < names && ns[0]; i++) {
    int found = -1;
    for (int attempt = 0; attempt < 10 && found <= 0; attempt++) {
      found = query_a(ns, name[i]);
      if (found <= 0) sleep(1);
    }
    if (found < 0) printf("resolve %s: no answer from %s\n", name[i], ns);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 16)) {
    perror("probe: listen");
    return 1;
  }
  printf("probe: %s listening on %d\n", host, port);
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR) continue;
      perror("probe: accept");
      return 1;
    }
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[1024];
    size_t have = 0;
    ssize_t got;
    while (have < sizeof req - 1 && (got = recv(c, req + have, sizeof req - 1 - have, 0)) > 0) {
      have += (size_t)got;
      req[have] = 0;
      if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break;
    }
    char body[300], reply[512];
    int blen = snprintf(body, sizeof body, "hello from %s\n", host);
    int rlen = snprintf(reply, sizeof reply,
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n%s", blen, body);
    if (send(c, reply, (size_t)rlen, MSG_NOSIGNAL) < 0) perror("probe: send");
    close(c);
  }
}

static int tcp_connect(const char *ip, int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 3};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    printf("connect %s:%d: %s\n", ip, port, strerror(errno));
    return 1;
  }
  printf("connect %s:%d: ok\n", ip, port);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  if (argc >= 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]), argc - 3, argv + 3);
  if (argc == 4 && strcmp(argv[1], "resolve") == 0) return query_a(argv[2], argv[3]) > 0 ? 0 : 1;
  if (argc == 4 && strcmp(argv[1], "connect") == 0) return tcp_connect(argv[2], atoi(argv[3]));
  fprintf(stderr, "usage: probe serve PORT [NAME...] | probe resolve SERVER NAME | probe connect IP PORT\n");
  return 2;
}
