/*
 * tslvs proxy benchmark UDP tools, built by bench/proxy at run time with the system C compiler (part of
 * the benchmark, not a product binary). Batched syscalls (recvmmsg/sendmmsg) so neither the backend nor
 * the load generator is what limits a proxy under test.
 *
 * usage: udptool echo PORT
 *   Echoes every datagram received on 127.0.0.1:PORT back to its sender. Prints "ready" once bound and
 *   runs until killed.
 *
 * usage: udptool load PORT FLOWS WINDOW SECONDS MAX_DGRAMS PAYLOAD
 *   Closed loop against 127.0.0.1:PORT: FLOWS sockets (distinct source ports, so distinct proxy sessions),
 *   each keeping WINDOW datagrams of PAYLOAD bytes in flight; every reply lets one more go. A flow with no
 *   reply for 50 ms counts its in-flight datagrams as lost and starts a new window. Stops after SECONDS
 *   or MAX_DGRAMS sent, whichever comes first. Prints one line:
 *     sent <n> received <n> lost <n> seconds <elapsed>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_FLOWS 256
#define MAX_WINDOW 1024
#define MAX_PAYLOAD 1400
#define LOSS_TIMEOUT 0.05

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long arg_long(const char *s, long lo, long hi, const char *what) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "udptool: %s must be an integer in %ld..%ld (got %s)\n", what, lo, hi, s);
    exit(2);
  }
  return v;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int udp_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  return fd;
}

static int echo(int port) {
  int fd = udp_socket();
  struct sockaddr_in a = loopback(port);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("bind");
    return 1;
  }
  static char bufs[BATCH][2048];
  static struct sockaddr_in peers[BATCH];
  static struct iovec iov[BATCH];
  static struct mmsghdr msgs[BATCH];
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof bufs[i];
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("recvmmsg");
      return 1;
    }
    for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
    int off = 0;
    while (off < n) {
      int s = sendmmsg(fd, msgs + off, (unsigned)(n - off), 0);
      if (s <= 0) break; /* a full socket buffer drops the rest, as the network would */
      off += s;
    }
  }
}

struct flow {
  int fd;
  int inflight;
  double last_reply;
};

static long send_window(struct flow *f, int want, const char *payload, int len, long budget) {
  static struct iovec iov[BATCH];
  static struct mmsghdr msgs[BATCH];
  long sent = 0;
  while (want > 0 && budget > 0) {
    int n = want < BATCH ? want : BATCH;
    if (n > budget) n = (int)budget;
    for (int i = 0; i < n; i++) {
      iov[i].iov_base = (void *)payload;
      iov[i].iov_len = (size_t)len;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int s = sendmmsg(f->fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (s <= 0) break;
    f->inflight += s;
    sent += s;
    budget -= s;
    want -= s;
  }
  return sent;
}

static int load(int port, int flows, int window, double seconds, long max, int len) {
  static struct flow fl[MAX_FLOWS];
  static struct pollfd pfd[MAX_FLOWS];
  static char payload[MAX_PAYLOAD];
  static char rbufs[BATCH][2048];
  static struct iovec riov[BATCH];
  static struct mmsghdr rmsgs[BATCH];
  memset(payload, 'x', sizeof payload);
  struct sockaddr_in dst = loopback(port);
  struct sockaddr_in src = loopback(0);
  double start = now_s();
  long sent = 0, received = 0, lost = 0;
  for (int i = 0; i < flows; i++) {
    fl[i].fd = udp_socket();
    if (bind(fl[i].fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        connect(fl[i].fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
      perror("bind/connect");
      return 1;
    }
    fcntl(fl[i].fd, F_SETFL, O_NONBLOCK);
    fl[i].inflight = 0;
    fl[i].last_reply = start;
    pfd[i].fd = fl[i].fd;
    pfd[i].events = POLLIN;
    sent += send_window(&fl[i], window, payload, len, max - sent);
  }
  double now = start;
  while (now - start < seconds) {
    int r = poll(pfd, (nfds_t)flows, 10);
    if (r < 0 && errno != EINTR) {
      perror("poll");
      return 1;
    }
    now = now_s();
    if (now - start >= seconds) break;
    for (int i = 0; i < flows; i++) {
      struct flow *f = &fl[i];
      if (pfd[i].revents & POLLIN) {
        for (;;) {
          for (int k = 0; k < BATCH; k++) {
            riov[k].iov_base = rbufs[k];
            riov[k].iov_len = sizeof rbufs[k];
            memset(&rmsgs[k].msg_hdr, 0, sizeof rmsgs[k].msg_hdr);
            rmsgs[k].msg_hdr.msg_iov = &riov[k];
            rmsgs[k].msg_hdr.msg_iovlen = 1;
          }
          int n = recvmmsg(f->fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
          if (n <= 0) break;
          received += n;
          f->inflight = f->inflight > n ? f->inflight - n : 0;
          f->last_reply = now;
          if (n < BATCH) break;
        }
      } else if (f->inflight > 0 && now - f->last_reply > LOSS_TIMEOUT) {
        lost += f->inflight;
        f->inflight = 0;
        f->last_reply = now;
      }
      if (sent < max && f->inflight < window) sent += send_window(f, window - f->inflight, payload, len, max - sent);
    }
    if (sent >= max && received + lost >= sent) break;
  }
  printf("sent %ld received %ld lost %ld seconds %.3f\n", sent, received, lost, now_s() - start);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "echo") == 0) return echo((int)arg_long(argv[2], 1, 65535, "PORT"));
  if (argc == 8 && strcmp(argv[1], "load") == 0) {
    return load((int)arg_long(argv[2], 1, 65535, "PORT"), (int)arg_long(argv[3], 1, MAX_FLOWS, "FLOWS"),
                (int)arg_long(argv[4], 1, MAX_WINDOW, "WINDOW"), (double)arg_long(argv[5], 1, 3600, "SECONDS"),
                arg_long(argv[6], 1, 1000000000000L, "MAX_DGRAMS"), (int)arg_long(argv[7], 1, MAX_PAYLOAD, "PAYLOAD"));
  }
  fprintf(stderr, "usage: udptool echo PORT | udptool load PORT FLOWS WINDOW SECONDS MAX_DGRAMS PAYLOAD\n");
  return 2;
}
