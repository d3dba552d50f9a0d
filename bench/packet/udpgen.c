/*
 * tslvs benchmark traffic generator: sends bounded bursts of small UDP frames through an AF_PACKET
 * TPACKET_V2 TX ring (frames are built once; each send() hands the kernel a batch without copying).
 * Built by bench/packet at run time with the system C compiler; part of tslvs, not a product binary.
 *
 * usage: udpgen IFNAME SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT FLOWS FRAME_LEN SECONDS MAX_PACKETS [SPORT_BASE [PPS]]
 * Flows differ by UDP source port (SPORT_BASE + i, default 10000). PPS > 0 paces the sending to that rate
 * (busy-waiting between batches); 0 or absent sends as fast as the kernel accepts. The UDP checksum is 0 (allowed for
 * IPv4). Prints one line:
 *   sent <packets> seconds <elapsed> pps <rate> errors <send() calls refused with ENOBUFS/EAGAIN>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define MAX_FLOWS 4096
#define BLOCK_SIZE (1 << 16)
#define BLOCKS 64

static void parse_mac(const char *s, uint8_t *out) {
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    fprintf(stderr, "bad MAC %s\n", s);
    exit(2);
  }
  for (int i = 0; i < 6; i++) out[i] = (uint8_t)v[i];
}

static uint16_t ip_checksum(const uint8_t *h, int len) {
  uint32_t sum = 0;
  for (int i = 0; i < len; i += 2) sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void build_frame(uint8_t *p, int frame_len, const uint8_t *smac, const uint8_t *dmac, struct in_addr sip,
                        struct in_addr dip, int sport, int dport, int id) {
  memset(p, 0, (size_t)frame_len);
  memcpy(p, dmac, 6);
  memcpy(p + 6, smac, 6);
  p[12] = 0x08;
  p[13] = 0x00;
  uint8_t *ip = p + 14;
  int ip_len = frame_len - 14;
  ip[0] = 0x45;
  ip[2] = (uint8_t)(ip_len >> 8);
  ip[3] = (uint8_t)ip_len;
  ip[4] = (uint8_t)(id >> 8);
  ip[5] = (uint8_t)id;
  ip[8] = 64;
  ip[9] = 17;
  memcpy(ip + 12, &sip, 4);
  memcpy(ip + 16, &dip, 4);
  uint16_t c = ip_checksum(ip, 20);
  ip[10] = (uint8_t)(c >> 8);
  ip[11] = (uint8_t)c;
  uint8_t *udp = ip + 20;
  int udp_len = ip_len - 20;
  udp[0] = (uint8_t)(sport >> 8);
  udp[1] = (uint8_t)sport;
  udp[2] = (uint8_t)(dport >> 8);
  udp[3] = (uint8_t)dport;
  udp[4] = (uint8_t)(udp_len >> 8);
  udp[5] = (uint8_t)udp_len;
}

int main(int argc, char **argv) {
  if (argc < 11 || argc > 13) {
    fprintf(stderr, "usage: %s IFNAME SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT FLOWS FRAME_LEN SECONDS MAX_PACKETS [SPORT_BASE [PPS]]\n", argv[0]);
    return 2;
  }
  const char *ifname = argv[1];
  uint8_t smac[6], dmac[6];
  parse_mac(argv[2], smac);
  parse_mac(argv[3], dmac);
  struct in_addr sip, dip;
  if (inet_pton(AF_INET, argv[4], &sip) != 1 || inet_pton(AF_INET, argv[5], &dip) != 1) {
    fprintf(stderr, "bad IPv4 address\n");
    return 2;
  }
  int dport = atoi(argv[6]);
  int flows = atoi(argv[7]);
  int frame_len = atoi(argv[8]);
  double seconds = atof(argv[9]);
  unsigned long long max_packets = strtoull(argv[10], NULL, 10);
  int sport_base = argc >= 12 ? atoi(argv[11]) : 10000;
  double rate = argc >= 13 ? atof(argv[12]) : 0;
  if (flows < 1 || flows > MAX_FLOWS || frame_len < 42 || frame_len > 1514 || seconds <= 0 || seconds > 60 ||
      sport_base < 1 || sport_base + flows > 65535) {
    fprintf(stderr, "argument out of range\n");
    return 2;
  }

  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int v = TPACKET_V2, one = 1, sndbuf = 64 << 20;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { perror("PACKET_VERSION"); return 1; }
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  setsockopt(fd, SOL_PACKET, PACKET_LOSS, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  unsigned frame_size = frame_len + 32 <= 256 ? 256 : 2048;
  struct tpacket_req req = {
    .tp_block_size = BLOCK_SIZE,
    .tp_block_nr = BLOCKS,
    .tp_frame_size = frame_size,
    .tp_frame_nr = (BLOCK_SIZE / frame_size) * BLOCKS,
  };
  if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) { perror("PACKET_TX_RING"); return 1; }
  size_t ring_len = (size_t)BLOCK_SIZE * BLOCKS;
  uint8_t *ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (ring == MAP_FAILED) { perror("mmap"); return 1; }
  struct sockaddr_ll sll = {0};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_IP);
  sll.sll_ifindex = (int)if_nametoindex(ifname);
  if (sll.sll_ifindex == 0) { fprintf(stderr, "no interface %s\n", ifname); return 1; }
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); return 1; }

  /* Frames are contiguous: block size is a multiple of the frame size. Slot i carries flow i mod flows. */
  unsigned n = req.tp_frame_nr;
  for (unsigned i = 0; i < n; i++) {
    uint8_t *f = ring + (size_t)i * frame_size;
    int flow = (int)(i % (unsigned)flows);
    build_frame(f + 32, frame_len, smac, dmac, sip, dip, sport_base + flow, dport, flow);
    ((struct tpacket2_hdr *)f)->tp_len = (unsigned)frame_len;
  }

  unsigned long long queued = 0, errors = 0;
  unsigned head = 0;
  double start = now_s(), end = start + seconds, t = start;
  while (queued < max_packets && t < end) {
    unsigned long long allowed = max_packets;
    if (rate > 0) {
      allowed = (unsigned long long)((t - start) * rate) + 1;
      if (allowed > max_packets) allowed = max_packets;
      if (queued >= allowed) {
        t = now_s();
        continue;
      }
    }
    for (unsigned k = 0; k < BATCH && queued < allowed; k++) {
      volatile struct tpacket2_hdr *h = (void *)(ring + (size_t)head * frame_size);
      if (h->tp_status != TP_STATUS_AVAILABLE) break;
      __sync_synchronize();
      h->tp_status = TP_STATUS_SEND_REQUEST;
      head = (head + 1) % n;
      queued++;
    }
    if (send(fd, NULL, 0, MSG_DONTWAIT) < 0) {
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) { perror("send"); return 1; }
      errors++;
    }
    t = now_s();
  }
  /* Frames still waiting were never sent. */
  unsigned long long pending = 0;
  for (unsigned i = 0; i < n; i++) {
    if (((volatile struct tpacket2_hdr *)(ring + (size_t)i * frame_size))->tp_status == TP_STATUS_SEND_REQUEST) pending++;
  }
  unsigned long long sent = queued - pending;
  double elapsed = t - start;
  printf("sent %llu seconds %.4f pps %.0f errors %llu\n", sent, elapsed, sent / elapsed, errors);
  return 0;
}
