/*
 * tslvs benchmark peer: the `afpacket_c_forward` job (every frame received on one interface goes out of
 * another, MACs rewritten) over AF_XDP instead of AF_PACKET. An XDP program on the input interface hands
 * every frame to an AF_XDP socket (copy mode: veth has no zero-copy), a second AF_XDP socket sends on the
 * output interface. It answers one question: would an AF_XDP I/O layer lift the ceiling that AF_PACKET's
 * per-frame transmit puts on a user-space data plane on this kernel? Built by bench/packet at run time
 * with the system C compiler, like cforward.c; not a product binary.
 *
 * The XDP program is five instructions assembled here (no clang, no libbpf):
 *   r2 = ctx->rx_queue_index; r1 = &xsks; r3 = XDP_PASS; return bpf_redirect_map(r1, r2, r3)
 *
 * usage: xdpforward IN_IF OUT_IF DST_MAC SRC_MAC MAX_SECONDS
 * Prints "ready" once attached, and at the end one line:
 *   forwarded <frames> rx <frames> drops <frames the kernel dropped for want of room>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PEER_NAME "xdpforward"
#include "peer.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define FRAME_SIZE 2048
#define NUM_FRAMES 8192
#define RING 4096
#define BATCH 64

static long bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

/* A ring of the socket: producer/consumer indexes, flags and the descriptors, as the kernel maps them. */
struct ring {
  uint32_t *producer, *consumer, *flags;
  void *desc;
  uint32_t mask;
};

static void map_ring(int fd, const struct xdp_ring_offset *o, off_t pgoff, size_t desc_size,
                     struct ring *r) {
  size_t len = o->desc + RING * desc_size;
  uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
  if (m == MAP_FAILED) die("mmap ring");
  r->producer = (uint32_t *)(m + o->producer);
  r->consumer = (uint32_t *)(m + o->consumer);
  r->flags = (uint32_t *)(m + o->flags);
  r->desc = m + o->desc;
  r->mask = RING - 1;
}

/* An AF_XDP socket on `ifname` queue 0 with its own UMEM; rx: with an RX ring (else TX only). */
struct xsk {
  int fd;
  uint8_t *umem;
  struct ring rx, tx, fill, comp;
};

static void open_xsk(const char *ifname, int rx, struct xsk *x) {
  x->fd = socket(AF_XDP, SOCK_RAW, 0);
  if (x->fd < 0) die("socket(AF_XDP)");
  x->umem = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (x->umem == MAP_FAILED) die("mmap umem");
  struct xdp_umem_reg reg = {(uint64_t)(uintptr_t)x->umem, (uint64_t)NUM_FRAMES * FRAME_SIZE, FRAME_SIZE, 0, 0};
  if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) < 0) die("XDP_UMEM_REG");
  int n = RING;
  if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof n) < 0) die("XDP_UMEM_FILL_RING");
  if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof n) < 0) die("XDP_UMEM_COMPLETION_RING");
  if (rx && setsockopt(x->fd, SOL_XDP, XDP_RX_RING, &n, sizeof n) < 0) die("XDP_RX_RING");
  if (!rx && setsockopt(x->fd, SOL_XDP, XDP_TX_RING, &n, sizeof n) < 0) die("XDP_TX_RING");
  struct xdp_mmap_offsets off;
  socklen_t ol = sizeof off;
  if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) < 0) die("XDP_MMAP_OFFSETS");
  map_ring(x->fd, &off.fr, XDP_UMEM_PGOFF_FILL_RING, sizeof(uint64_t), &x->fill);
  map_ring(x->fd, &off.cr, XDP_UMEM_PGOFF_COMPLETION_RING, sizeof(uint64_t), &x->comp);
  if (rx) map_ring(x->fd, &off.rx, XDP_PGOFF_RX_RING, sizeof(struct xdp_desc), &x->rx);
  else map_ring(x->fd, &off.tx, XDP_PGOFF_TX_RING, sizeof(struct xdp_desc), &x->tx);
  struct sockaddr_xdp sa = {0};
  sa.sxdp_family = AF_XDP;
  sa.sxdp_ifindex = if_nametoindex(ifname);
  if (sa.sxdp_ifindex == 0) die(ifname);
  sa.sxdp_queue_id = 0;
  sa.sxdp_flags = XDP_COPY;
  if (bind(x->fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind(AF_XDP)");
}

/* The redirect-everything program on `ifindex`, its XSKMAP slot 0 holding `xsk_fd`. Returns the link fd. */
static int attach_redirect(int ifindex, int xsk_fd) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_XSKMAP;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 1;
  int map = (int)bpf(BPF_MAP_CREATE, &a);
  if (map < 0) die("BPF_MAP_CREATE(XSKMAP)");
  struct bpf_insn prog[] = {
      {BPF_LDX | BPF_MEM | BPF_W, 2, 1, 16, 0},      /* r2 = ctx->rx_queue_index */
      {BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map}, /* r1 = map */
      {0, 0, 0, 0, 0},
      {BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, XDP_PASS}, /* r3 = XDP_PASS (if the slot is empty) */
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  static char log[4096];
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_XDP;
  a.insn_cnt = sizeof prog / sizeof prog[0];
  a.insns = (uint64_t)(uintptr_t)prog;
  a.license = (uint64_t)(uintptr_t) "GPL";
  a.log_level = 1;
  a.log_size = sizeof log;
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.expected_attach_type = BPF_XDP;
  int pfd = (int)bpf(BPF_PROG_LOAD, &a);
  if (pfd < 0) {
    fprintf(stderr, "xdpforward: verifier: %s\n", log);
    die("BPF_PROG_LOAD");
  }
  uint32_t key = 0, val = (uint32_t)xsk_fd;
  memset(&a, 0, sizeof a);
  a.map_fd = map;
  a.key = (uint64_t)(uintptr_t)&key;
  a.value = (uint64_t)(uintptr_t)&val;
  if (bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) die("BPF_MAP_UPDATE_ELEM");
  memset(&a, 0, sizeof a);
  a.link_create.prog_fd = pfd;
  a.link_create.target_ifindex = ifindex;
  a.link_create.attach_type = BPF_XDP;
  a.link_create.flags = XDP_FLAGS_DRV_MODE;
  int link = (int)bpf(BPF_LINK_CREATE, &a);
  if (link < 0) die("BPF_LINK_CREATE(XDP, native)");
  return link;
}

int main(int argc, char **argv) {
  uint8_t dst[6], src[6];
  double max_seconds = peer_args(argc, argv, dst, src);
  struct xsk in, out;
  open_xsk(argv[1], 1, &in);
  open_xsk(argv[2], 0, &out);
  /* Every input frame goes to the fill ring; output frames are handed out from a free stack. */
  uint64_t *fill = in.fill.desc;
  for (uint32_t i = 0; i < RING; i++) fill[i] = (uint64_t)i * FRAME_SIZE;
  __atomic_store_n(in.fill.producer, RING, __ATOMIC_RELEASE);
  static uint64_t free_tx[NUM_FRAMES];
  uint32_t nfree = 0;
  for (uint32_t i = 0; i < NUM_FRAMES; i++) free_tx[nfree++] = (uint64_t)i * FRAME_SIZE;
  int link = attach_redirect((int)if_nametoindex(argv[1]), in.fd);
  (void)link;
  printf("ready\n");
  fflush(stdout);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned long forwarded = 0, rx = 0, no_room = 0;
  struct xdp_desc *rxd = in.rx.desc, *txd = out.tx.desc;
  uint64_t *comp = out.comp.desc;
  uint32_t rx_cons = *in.rx.consumer, fill_prod = RING, tx_prod = *out.tx.producer, comp_cons = 0;
  struct pollfd pfd = {in.fd, POLLIN, 0};
  for (unsigned long round = 0; !stop; round++) {
    /* Output frames the kernel has sent are free again. */
    uint32_t cp = __atomic_load_n(out.comp.producer, __ATOMIC_ACQUIRE);
    while (comp_cons != cp) free_tx[nfree++] = comp[comp_cons++ & out.comp.mask];
    __atomic_store_n(out.comp.consumer, comp_cons, __ATOMIC_RELEASE);
    uint32_t rp = __atomic_load_n(in.rx.producer, __ATOMIC_ACQUIRE);
    uint32_t avail = rp - rx_cons;
    if (avail > BATCH) avail = BATCH;
    uint32_t tx_room = RING - (tx_prod - __atomic_load_n(out.tx.consumer, __ATOMIC_ACQUIRE));
    int queued = 0;
    for (uint32_t k = 0; k < avail; k++) {
      struct xdp_desc *d = &rxd[rx_cons & in.rx.mask];
      rx++;
      if (nfree > 0 && tx_room > 0 && d->len >= 14) {
        uint64_t a = free_tx[--nfree];
        uint8_t *frame = out.umem + a;
        memcpy(frame, in.umem + d->addr, d->len);
        memcpy(frame, dst, 6);
        memcpy(frame + 6, src, 6);
        struct xdp_desc *t = &txd[tx_prod & out.tx.mask];
        t->addr = a;
        t->len = d->len;
        t->options = 0;
        tx_prod++;
        tx_room--;
        queued++;
      } else {
        no_room++;
      }
      /* The input frame goes straight back to the fill ring (it has as many slots as frames). */
      fill[fill_prod & in.fill.mask] = d->addr & ~(uint64_t)(FRAME_SIZE - 1);
      fill_prod++;
      rx_cons++;
    }
    if (avail > 0) {
      __atomic_store_n(in.rx.consumer, rx_cons, __ATOMIC_RELEASE);
      __atomic_store_n(in.fill.producer, fill_prod, __ATOMIC_RELEASE);
    }
    if (queued > 0) {
      __atomic_store_n(out.tx.producer, tx_prod, __ATOMIC_RELEASE);
      /* Copy mode sends from the syscall, at most 32 frames per call by default: call until drained. */
      for (int i = 0; i < 16 && __atomic_load_n(out.tx.consumer, __ATOMIC_ACQUIRE) != tx_prod; i++)
        if (sendto(out.fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EBUSY) break;
      forwarded += queued;
    }
    if (avail == 0 || (round & 1023) == 0) {
      if (past(&t0, max_seconds)) break;
    }
    if (avail == 0) poll(&pfd, 1, 50);
  }
  struct xdp_statistics st = {0};
  socklen_t sl = sizeof st;
  getsockopt(in.fd, SOL_XDP, XDP_STATISTICS, &st, &sl);
  printf("forwarded %lu rx %lu drops %llu\n", forwarded, rx,
         (unsigned long long)(st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs) + no_room);
  return 0;
}
