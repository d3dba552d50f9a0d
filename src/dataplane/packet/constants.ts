/**
 * Linux ABI numbers for packet I/O (x86-64 / little-endian hosts). Values come from the uapi headers
 * (`linux/if_packet.h`, `linux/if_ether.h`, `linux/virtio_net.h`, `linux/if_tun.h`, `sys/socket.h`) and
 * were checked on a 6.18 kernel; see /work/shared/reference/linux-packet.md for the verification notes.
 */

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const ETH_P_ALL = 0x0003;
export const IPPROTO_IPIP = 4;
/** IPv6 encapsulated in IPv6 (RFC 2473), the next header of an IPv6 tunnel packet. */
export const IPPROTO_IPV6 = 41;

export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;

export const SOL_PACKET = 263;
/** `PACKET_*` socket options (SOL_PACKET). */
export const PacketOpt = Object.freeze({
  ADD_MEMBERSHIP: 1,
  RX_RING: 5,
  STATISTICS: 6,
  VERSION: 10,
  HDRLEN: 11,
  RESERVE: 12,
  TX_RING: 13,
  LOSS: 14,
  VNET_HDR: 15,
  FANOUT: 18,
  QDISC_BYPASS: 20,
  IGNORE_OUTGOING: 23,
});
export const TPACKET_V2 = 1;
export const PACKET_MR_PROMISC = 1;

/** PACKET_FANOUT modes (low byte of the type) and flags. */
export const FanoutMode = Object.freeze({ hash: 0, lb: 1, cpu: 2, rollover: 3, rnd: 4, qm: 5 });
export const FanoutFlag = Object.freeze({
  ROLLOVER: 0x1000,
  UNIQUEID: 0x2000,
  IGNORE_OUTGOING: 0x4000,
  DEFRAG: 0x8000,
});

/** `struct tpacket2_hdr` field offsets (32 bytes, host-endian). */
export const Tp2 = Object.freeze({
  STATUS: 0,
  LEN: 4,
  SNAPLEN: 8,
  MAC: 12,
  NET: 14,
  SEC: 16,
  NSEC: 20,
  VLAN_TCI: 24,
  VLAN_TPID: 26,
  /** `sockaddr_ll` follows the aligned header in RX frames; its `sll_pkttype` byte is at +10. */
  SLL: 32,
  SLL_PKTTYPE: 32 + 10,
});
/** TPACKET2_HDRLEN = TPACKET_ALIGN(sizeof(tpacket2_hdr)) + sizeof(sockaddr_ll). */
export const TPACKET2_HDRLEN = 52;
/** Without PACKET_TX_HAS_OFF the kernel takes TX data from frame + (TPACKET2_HDRLEN - sizeof(sockaddr_ll)). */
export const TX_DATA_OFFSET = 32;

/** RX `tp_status` bits. */
export const RxStatus = Object.freeze({
  KERNEL: 0,
  USER: 1,
  COPY: 2,
  LOSING: 4,
  CSUMNOTREADY: 8,
  VLAN_VALID: 0x10,
  VLAN_TPID_VALID: 0x40,
  CSUM_VALID: 0x80,
  GSO_TCP: 0x100,
});
/** TX `tp_status` values. */
export const TxStatus = Object.freeze({ AVAILABLE: 0, SEND_REQUEST: 1, SENDING: 2, WRONG_FORMAT: 4 });

/** `struct virtio_net_hdr` (10 bytes, little-endian on x86-64 because the socket uses vio_le()). */
export const VNET_HDR_LEN = 10;
export const Vnet = Object.freeze({
  FLAGS: 0,
  GSO_TYPE: 1,
  HDR_LEN: 2,
  GSO_SIZE: 4,
  CSUM_START: 6,
  CSUM_OFFSET: 8,
});
export const VnetFlag = Object.freeze({ NEEDS_CSUM: 1, DATA_VALID: 2 });
export const VnetGso = Object.freeze({ NONE: 0, TCPV4: 1, UDP: 3, TCPV6: 4, UDP_L4: 5, ECN: 0x80 });

/** `sockaddr_ll.sll_pkttype` values. */
export const PacketType = Object.freeze({ HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 });

export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_FIXED = 0x10;

export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_NONBLOCK = 0x800;
export const O_CLOEXEC = 0x80000;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const EFD_NONBLOCK = 0x800;
export const EFD_CLOEXEC = 0x80000;
export const CLONE_NEWNET = 0x40000000;

/** `struct ifreq` (40 bytes): name[16], then a union at 16. */
export const IFREQ_LEN = 40;
export const IFNAMSIZ = 16;
export const Ioctl = Object.freeze({
  SIOCGIFFLAGS: 0x8913,
  SIOCGIFMTU: 0x8921,
  SIOCGIFHWADDR: 0x8927,
  SIOCGIFINDEX: 0x8933,
  TUNSETIFF: 0x400454ca,
  TUNSETOFFLOAD: 0x400454d0,
  TUNGETVNETHDRSZ: 0x800454d7,
});
export const IfFlag = Object.freeze({
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
});
export const ARPHRD_ETHER = 1;

export const TunFlag = Object.freeze({ TUN: 0x1, TAP: 0x2, NO_PI: 0x1000, VNET_HDR: 0x4000 });
export const TunOffload = Object.freeze({
  CSUM: 0x1,
  TSO4: 0x2,
  TSO6: 0x4,
  TSO_ECN: 0x8,
  USO4: 0x20,
  USO6: 0x40,
});

export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
export const ETH_ZLEN = 60;
