/*
 * What the benchmark's C forwarding peers (cforward.c, xdpforward.c) share: the stop flag their signal
 * handler sets, fatal errors, MAC arguments and the run's time limit. Define PEER_NAME (the program's
 * name for messages) before including it.
 */
#ifndef TSLVS_BENCH_PEER_H
#define TSLVS_BENCH_PEER_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void die(const char *what) {
  fprintf(stderr, PEER_NAME ": %s: %s\n", what, strerror(errno));
  exit(1);
}

static void parse_mac(const char *s, uint8_t *out) {
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    fprintf(stderr, PEER_NAME ": bad MAC %s\n", s);
    exit(2);
  }
  for (int i = 0; i < 6; i++) out[i] = (uint8_t)v[i];
}

/*
 * argv: IN_IF OUT_IF DST_MAC SRC_MAC MAX_SECONDS (exits with the usage otherwise). Fills the MACs, installs
 * the signal handler, returns MAX_SECONDS.
 */
static double peer_args(int argc, char **argv, uint8_t *dst, uint8_t *src) {
  if (argc != 6) {
    fprintf(stderr, "usage: " PEER_NAME " IN_IF OUT_IF DST_MAC SRC_MAC MAX_SECONDS\n");
    exit(2);
  }
  parse_mac(argv[3], dst);
  parse_mac(argv[4], src);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  return atof(argv[5]);
}

/* Seconds since `t0` (CLOCK_MONOTONIC) beyond `max`. */
static int past(const struct timespec *t0, double max) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9 > max;
}

#endif
