/*
 * tslvs benchmark traffic generator: sends bounded bursts of small UDP frames, by one of two engines:
 *   ring: an AF_PACKET TPACKET_V2 TX ring (frames are built once; each send() hands the kernel a batch
 *         without copying). The receiving veth gets socket buffers whose data lives in the ring.
 *   xdp:  the kernel's XDP traffic generator (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, Linux
 *         5.18): a small XDP program picks the flow and redirects each page-pool frame out of IFNAME, so
 *         the veth peer receives XDP frames in pages with headroom, as a NIC's driver hands them over.
 * Built by bench/packet at run time with the system C compiler; part of tslvs, not a product binary.
 *
 * usage: udpgen IFNAME SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT FLOWS FRAME_LEN SECONDS MAX_PACKETS [SPORT_BASE [PPS [ENGINE]]]
 * Flows differ by UDP source port (SPORT_BASE + i, default 10000; ring: in turn, xdp: at random). PPS > 0
 * paces the sending to that rate (busy-waiting between batches); 0 or absent sends as fast as the kernel
 * accepts. ENGINE is ring (default) or xdp. The UDP checksum is 0 (allowed for IPv4). Prints one line:
 *   sent <packets> seconds <elapsed> pps <rate> errors <send() calls refused: ENOBUFS/EAGAIN, EINTR for xdp>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

/* A run's clock: it ends at `end` or after `max` frames; with `rate` > 0 frames are paced to it. */
struct pace {
  double start, end, t, rate;
  unsigned long long max;
};

static struct pace pace_start(double seconds, double rate, unsigned long long max) {
  double now = now_s();
  return (struct pace){now, now + seconds, now, rate, max};
}

/* How many frames may have been queued by now (waiting until that exceeds `queued`); 0: the run is over. */
static unsigned long long pace_next(struct pace *p, unsigned long long queued) {
  for (;;) {
    if (queued >= p->max || p->t >= p->end) return 0;
    unsigned long long allowed = p->max;
    if (p->rate > 0) {
      allowed = (unsigned long long)((p->t - p->start) * p->rate) + 1;
      if (allowed > p->max) allowed = p->max;
    }
    if (queued < allowed) return allowed;
    p->t = now_s();
  }
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

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

static long sys_bpf(int cmd, union bpf_attr *a) { return syscall(SYS_bpf, cmd, a, sizeof *a); }

/*
 * The sender: the frame's first 42 bytes (Ethernet, IPv4, UDP headers) written again from `frame`, source
 * port SPORT_BASE + random % FLOWS, then out of `ifindex`. Live-frame pages are recycled without being
 * reset, so a frame comes back as the last receiver left it (a director rewrites headers in place).
 * Returns the program fd.
 */
static int load_sender(const uint8_t *frame, int ifindex, int flows, int sport_base) {
  struct bpf_insn prog[40];
  int n = 0;
#define INSN(c, d, s_, o, i) (prog[n++] = (struct bpf_insn){(c), (d), (s_), (o), (i)})
  INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0); /* r6 = ctx */
  INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32);
  INSN(BPF_ALU64 | BPF_MOD | BPF_K, 0, 0, 0, flows);
  INSN(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, sport_base);
  INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, 0, 0); /* r2 = data */
  INSN(BPF_LDX | BPF_MEM | BPF_W, 3, 6, 4, 0); /* r3 = data_end */
  INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0);
  INSN(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 42);
  int check = n;
  INSN(BPF_JMP | BPF_JGT | BPF_X, 4, 3, 0, 0); /* shorter than Ethernet + IPv4 + UDP: drop (offset below) */
  for (int off = 0; off < 40; off += 4) {
    int32_t w;
    memcpy(&w, frame + off, 4); /* host order, as the store writes it */
    INSN(BPF_ST | BPF_MEM | BPF_W, 2, 0, off, w);
  }
  uint16_t h;
  memcpy(&h, frame + 40, 2);
  INSN(BPF_ST | BPF_MEM | BPF_H, 2, 0, 40, h);
  INSN(BPF_STX | BPF_MEM | BPF_B, 2, 0, 35, 0); /* UDP source port, low byte */
  INSN(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 8);
  INSN(BPF_STX | BPF_MEM | BPF_B, 2, 0, 34, 0); /* high byte */
  INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, ifindex);
  INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0);
  INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect);
  INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  prog[check].off = (int16_t)(n - check - 1);
  INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_DROP);
  INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef INSN
  static char log[4096];
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_XDP;
  a.insn_cnt = (uint32_t)n;
  a.insns = (uint64_t)(uintptr_t)prog;
  a.license = (uint64_t)(uintptr_t) "GPL";
  a.log_level = 1;
  a.log_size = sizeof log;
  a.log_buf = (uint64_t)(uintptr_t)log;
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  if (fd < 0) {
    fprintf(stderr, "udpgen: BPF_PROG_LOAD: %s\n%s\n", strerror(errno), log);
    exit(1);
  }
  return fd;
}

/* The xdp engine: live-frame test runs of at most CHUNK frames each until the time or count is reached. */
static int send_xdp(const char *ifname, const uint8_t *frame, int frame_len, int flows, int sport_base,
                    double seconds, unsigned long long max_packets, double rate) {
  int ifindex = (int)if_nametoindex(ifname);
  if (ifindex == 0) { fprintf(stderr, "no interface %s\n", ifname); return 1; }
  int prog = load_sender(frame, ifindex, flows, sport_base);
  struct xdp_md ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.data_end = (uint32_t)frame_len;
  ctx.ingress_ifindex = (uint32_t)ifindex;
  unsigned long long queued = 0, errors = 0, allowed;
  struct pace pc = pace_start(seconds, rate, max_packets);
  while ((allowed = pace_next(&pc, queued)) != 0) {
    unsigned long long n = allowed - queued;
    /* Each call sends its frames as one burst: pacing is coarse (the benchmark paces only the ring). */
    if (n > 16384) n = 16384;
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.test.prog_fd = (uint32_t)prog;
    a.test.data_in = (uint64_t)(uintptr_t)frame;
    a.test.data_size_in = (uint32_t)frame_len;
    a.test.ctx_in = (uint64_t)(uintptr_t)&ctx;
    a.test.ctx_size_in = sizeof ctx;
    a.test.repeat = (uint32_t)n;
    a.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0) {
      if (errno != EINTR) { perror("BPF_PROG_TEST_RUN (live frames)"); return 1; }
      errors++;
    } else {
      queued += n;
    }
    pc.t = now_s();
  }
  double elapsed = pc.t - pc.start;
  printf("sent %llu seconds %.4f pps %.0f errors %llu\n", queued, elapsed, queued / elapsed, errors);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 11 || argc > 14) {
    fprintf(stderr, "usage: %s IFNAME SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT FLOWS FRAME_LEN SECONDS MAX_PACKETS [SPORT_BASE [PPS [ENGINE]]]\n", argv[0]);
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
  const char *engine = argc >= 14 ? argv[13] : "ring";
  if (flows < 1 || flows > MAX_FLOWS || frame_len < 42 || frame_len > 1514 || seconds <= 0 || seconds > 60 ||
      sport_base < 1 || sport_base + flows > 65535) {
    fprintf(stderr, "argument out of range\n");
    return 2;
  }
  if (strcmp(engine, "xdp") == 0) {
    static uint8_t frame[1514];
    build_frame(frame, frame_len, smac, dmac, sip, dip, sport_base, dport, 0);
    return send_xdp(ifname, frame, frame_len, flows, sport_base, seconds, max_packets, rate);
  }
  if (strcmp(engine, "ring") != 0) {
    fprintf(stderr, "unknown engine %s (ring or xdp)\n", engine);
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

  unsigned long long queued = 0, errors = 0, allowed;
  unsigned head = 0;
  struct pace pc = pace_start(seconds, rate, max_packets);
  while ((allowed = pace_next(&pc, queued)) != 0) {
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
    pc.t = now_s();
  }
  /* Frames still waiting were never sent. */
  unsigned long long pending = 0;
  for (unsigned i = 0; i < n; i++) {
    if (((volatile struct tpacket2_hdr *)(ring + (size_t)i * frame_size))->tp_status == TP_STATUS_SEND_REQUEST) pending++;
  }
  unsigned long long sent = queued - pending;
  double elapsed = pc.t - pc.start;
  printf("sent %llu seconds %.4f pps %.0f errors %llu\n", sent, elapsed, sent / elapsed, errors);
  return 0;
}
