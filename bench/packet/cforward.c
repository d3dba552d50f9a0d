/*
 * tslvs benchmark peer: the same job as the `forward-to` packet worker (every frame received on one
 * interface goes out of another, MACs rewritten), written in C over the same TPACKET_V2 RX/TX rings. It
 * measures what AF_PACKET itself costs on this kernel, so the JavaScript worker's overhead can be told
 * apart from the kernel's. Built by bench/packet at run time with the system C compiler; not a product
 * binary.
 *
 * usage: cforward IN_IF OUT_IF DST_MAC SRC_MAC MAX_SECONDS
 * Runs until SIGTERM/SIGINT or MAX_SECONDS, then prints one line:
 *   forwarded <frames> rx <frames> drops <kernel ring drops>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_NAME "cforward"
#include "peer.h"

/* The worker's geometry in the benchmark: 2 KiB slots, 8192 RX and 4096 TX frames. */
#define FRAME_SIZE 2048
#define RX_FRAMES 8192
#define TX_FRAMES 4096
#define BATCH 128

/* A bound AF_PACKET socket with the rings asked for (0 frames: no such ring), mapped at *map. */
static int open_ring(const char *ifname, int rx_frames, int tx_frames, uint8_t **map) {
  int protocol = rx_frames > 0 ? htons(ETH_P_ALL) : 0;
  int fd = socket(AF_PACKET, SOCK_RAW, protocol);
  if (fd < 0) die("socket");
  int v = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) die("PACKET_VERSION");
  v = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v);
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v);
  v = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v);
  struct tpacket_req req = {FRAME_SIZE * 32, 0, FRAME_SIZE, 0};
  size_t bytes = 0;
  if (rx_frames > 0) {
    req.tp_frame_nr = rx_frames;
    req.tp_block_nr = rx_frames / 32;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) die("PACKET_RX_RING");
    bytes += (size_t)rx_frames * FRAME_SIZE;
  }
  if (tx_frames > 0) {
    req.tp_frame_nr = tx_frames;
    req.tp_block_nr = tx_frames / 32;
    if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) die("PACKET_TX_RING");
    bytes += (size_t)tx_frames * FRAME_SIZE;
  }
  *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (*map == MAP_FAILED) die("mmap");
  struct sockaddr_ll sll = {0};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = protocol;
  sll.sll_ifindex = (int)if_nametoindex(ifname);
  if (sll.sll_ifindex == 0) die(ifname);
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("bind");
  return fd;
}

int main(int argc, char **argv) {
  uint8_t dst[6], src[6];
  double max_seconds = peer_args(argc, argv, dst, src);
  uint8_t *rx_map, *tx_map;
  int in = open_ring(argv[1], RX_FRAMES, 0, &rx_map);
  int out = open_ring(argv[2], 0, TX_FRAMES, &tx_map);
  const size_t tx_data = TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned long forwarded = 0, rx = 0, drops = 0;
  unsigned rx_head = 0, tx_head = 0;
  struct pollfd pfd = {in, POLLIN, 0};
  printf("ready\n");
  fflush(stdout);
  for (unsigned long round = 0; !stop; round++) {
    int queued = 0;
    for (int k = 0; k < BATCH; k++) {
      struct tpacket2_hdr *h = (struct tpacket2_hdr *)(rx_map + (size_t)rx_head * FRAME_SIZE);
      if ((__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) break;
      rx++;
      struct tpacket2_hdr *t = (struct tpacket2_hdr *)(tx_map + (size_t)tx_head * FRAME_SIZE);
      if (__atomic_load_n(&t->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_AVAILABLE && h->tp_snaplen >= 14) {
        uint8_t *frame = (uint8_t *)t + tx_data;
        memcpy(frame, (uint8_t *)h + h->tp_mac, h->tp_snaplen);
        memcpy(frame, dst, 6);
        memcpy(frame + 6, src, 6);
        t->tp_len = h->tp_snaplen;
        __atomic_store_n(&t->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
        tx_head = tx_head + 1 == TX_FRAMES ? 0 : tx_head + 1;
        queued++;
      }
      __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      rx_head = rx_head + 1 == RX_FRAMES ? 0 : rx_head + 1;
    }
    if (queued > 0) {
      send(out, NULL, 0, MSG_DONTWAIT);
      forwarded += queued;
    }
    if (queued == 0 || (round & 1023) == 0) {
      if (past(&t0, max_seconds)) break;
    }
    if (queued == 0) poll(&pfd, 1, 50);
  }
  struct tpacket_stats st;
  socklen_t len = sizeof st;
  if (getsockopt(in, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops = st.tp_drops;
  printf("forwarded %lu rx %lu drops %lu\n", forwarded, rx, drops);
  return 0;
}
