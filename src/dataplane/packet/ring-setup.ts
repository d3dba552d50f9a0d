/**
 * Socket plumbing for PacketRing.open(): option setting in the order the kernel requires (reference §1.1:
 * version and VNET_HDR/RESERVE/LOSS before the rings, bind before fanout).
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import {
  AF_PACKET,
  ARPHRD_ETHER,
  ETH_P_ALL,
  FanoutFlag,
  FanoutMode,
  MAP_FIXED,
  MAP_SHARED,
  PACKET_MR_PROMISC,
  PacketOpt,
  PROT_READ,
  PROT_WRITE,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_PACKET,
  SOL_SOCKET,
  TPACKET_V2,
} from './constants.js';
import { interfaceInfo } from './ifinfo.js';
import { Errno, libc, syscallError } from './libc.js';
import { type RingGeometry, type RingGeometryOptions, tpacketReq } from './ring-geometry.js';

export interface FanoutOptions {
  /** Group id, 0-65535; every member of a group must use the same mode and flags. */
  group: number;
  mode: keyof typeof FanoutMode;
  /** Fall back to another member when this one's ring is full. */
  rollover?: boolean;
  /** Reassemble IPv4 fragments before hashing, so fragments of one datagram reach one member. */
  defrag?: boolean;
  /** The group-wide IGNORE_OUTGOING (per-socket PACKET_IGNORE_OUTGOING is ignored inside a group). */
  ignoreOutgoing?: boolean;
}

export interface PacketRingOptions {
  ifname: string;
  rx?: RingGeometryOptions;
  tx?: RingGeometryOptions;
  /** PACKET_VNET_HDR (default true): offload metadata on RX, checksum/GSO offload on TX. */
  vnetHdr?: boolean;
  /** PACKET_RESERVE headroom before each RX frame (default 0). */
  reserve?: number;
  /** PACKET_QDISC_BYPASS: straight to the driver, no qdisc/tc egress (default false). */
  qdiscBypass?: boolean;
  /** PACKET_IGNORE_OUTGOING: do not see our own (or the host's) transmitted frames on RX (default true). */
  ignoreOutgoing?: boolean;
  /** SO_RCVBUF/SO_SNDBUF (FORCE variants when permitted), default 4 MiB. */
  bufferBytes?: number;
  promiscuous?: boolean;
  fanout?: FanoutOptions;
}

/**
 * socket -> options -> rings -> mmap (at `at`, inside a range the caller reserved) -> bind -> fanout.
 * Returns the socket, the mapping and the interface facts; closes the socket when a step fails.
 */
export function openRingSocket(
  opts: PacketRingOptions,
  vnetHdr: boolean,
  rx: RingGeometry,
  tx: RingGeometry,
  at: number,
): { fd: number; address: number; ifindex: number; mac: Uint8Array; mtu: number } {
  const ifname = opts.ifname;
  const c = libc();
  // Protocol 0: nothing is queued until bind() names the interface and EtherType.
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw syscallError('socket(AF_PACKET, SOCK_RAW)', c.errno(), { ifname });
  const bytes = rx.bytes + tx.bytes;
  let address = -1;
  try {
    const info = interfaceInfo(ifname, fd);
    if (info.hwType !== ARPHRD_ETHER) {
      throw new TslvsError(
        ErrorCodes.ENVIRONMENT,
        `${ifname} is not an Ethernet interface (ARPHRD ${info.hwType})`,
        {
          ifname,
        },
      );
    }
    setIntOpt(fd, SOL_PACKET, PacketOpt.VERSION, TPACKET_V2, 'PACKET_VERSION', ifname);
    if (vnetHdr) setIntOpt(fd, SOL_PACKET, PacketOpt.VNET_HDR, 1, 'PACKET_VNET_HDR', ifname);
    if (opts.reserve) setIntOpt(fd, SOL_PACKET, PacketOpt.RESERVE, opts.reserve, 'PACKET_RESERVE', ifname);
    setIntOpt(fd, SOL_PACKET, PacketOpt.LOSS, 1, 'PACKET_LOSS', ifname);
    if (opts.qdiscBypass) setIntOpt(fd, SOL_PACKET, PacketOpt.QDISC_BYPASS, 1, 'PACKET_QDISC_BYPASS', ifname);
    if (opts.ignoreOutgoing ?? true) {
      const errno = trySetIntOpt(fd, SOL_PACKET, PacketOpt.IGNORE_OUTGOING, 1);
      if (errno !== 0 && errno !== Errno.ENOPROTOOPT) {
        throw syscallError('setsockopt(PACKET_IGNORE_OUTGOING)', errno, { ifname });
      }
    }
    raiseBuffers(fd, opts.bufferBytes ?? 4 << 20, ifname);
    setBuffer(fd, SOL_PACKET, PacketOpt.RX_RING, tpacketReq(rx), 'PACKET_RX_RING', ifname);
    setBuffer(fd, SOL_PACKET, PacketOpt.TX_RING, tpacketReq(tx), 'PACKET_TX_RING', ifname);
    // MAP_FIXED into the range the caller reserved (replacing that part of the reservation).
    address = c.mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    if (address === -1) throw syscallError('mmap(packet ring)', c.errno(), { ifname, bytes });
    bindToInterface(fd, info.index, ifname);
    if (opts.promiscuous) enablePromiscuous(fd, info.index, ifname);
    if (opts.fanout) joinFanout(fd, opts.fanout, ifname);
    return { fd, address, ifindex: info.index, mac: info.mac, mtu: info.mtu };
  } catch (err) {
    // The caller unmaps the whole reserved range, which includes this ring's part.
    c.close(fd);
    throw err;
  }
}

const intBuf = Buffer.alloc(4);

export function setIntOpt(
  fd: number,
  level: number,
  name: number,
  value: number,
  label: string,
  ifname: string,
): void {
  const c = libc();
  intBuf.writeInt32LE(value, 0);
  if (c.setsockopt(fd, level, name, intBuf, 4) < 0)
    throw syscallError(`setsockopt(${label})`, c.errno(), { ifname });
}

/** Like setIntOpt but reports failure instead of throwing (optional features). */
export function trySetIntOpt(fd: number, level: number, name: number, value: number): number {
  const c = libc();
  intBuf.writeInt32LE(value, 0);
  return c.setsockopt(fd, level, name, intBuf, 4) < 0 ? c.errno() : 0;
}

export function setBuffer(
  fd: number,
  level: number,
  name: number,
  value: Buffer,
  label: string,
  ifname: string,
): void {
  const c = libc();
  if (c.setsockopt(fd, level, name, value, value.length) < 0) {
    throw syscallError(`setsockopt(${label})`, c.errno(), { ifname });
  }
}

/**
 * Raises SO_RCVBUF/SO_SNDBUF past net.core.[rw]mem_max with the FORCE variants (CAP_NET_ADMIN), falling back
 * to the capped options without that capability. TX frames in flight are charged to the send buffer.
 */
export function raiseBuffers(fd: number, bytes: number, ifname: string): void {
  for (const [force, plain, label] of [
    [SO_RCVBUFFORCE, SO_RCVBUF, 'SO_RCVBUF'],
    [SO_SNDBUFFORCE, SO_SNDBUF, 'SO_SNDBUF'],
  ] as const) {
    const errno = trySetIntOpt(fd, SOL_SOCKET, force, bytes);
    if (errno === Errno.EPERM) setIntOpt(fd, SOL_SOCKET, plain, bytes, label, ifname);
    else if (errno !== 0) throw syscallError(`setsockopt(${label}FORCE)`, errno, { ifname });
  }
}

/** Binds to the interface for every EtherType. */
export function bindToInterface(fd: number, ifindex: number, ifname: string): void {
  const sll = Buffer.alloc(20);
  sll.writeUInt16LE(AF_PACKET, 0);
  sll.writeUInt16BE(ETH_P_ALL, 2);
  sll.writeInt32LE(ifindex, 4);
  const c = libc();
  if (c.bind(fd, sll, sll.length) < 0) throw syscallError('bind(AF_PACKET)', c.errno(), { ifname, ifindex });
}

export function enablePromiscuous(fd: number, ifindex: number, ifname: string): void {
  const mreq = Buffer.alloc(16);
  mreq.writeInt32LE(ifindex, 0);
  mreq.writeUInt16LE(PACKET_MR_PROMISC, 4);
  setBuffer(fd, SOL_PACKET, PacketOpt.ADD_MEMBERSHIP, mreq, 'PACKET_ADD_MEMBERSHIP', ifname);
}

export function joinFanout(fd: number, f: FanoutOptions, ifname: string): void {
  if (!Number.isInteger(f.group) || f.group < 0 || f.group > 0xffff) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `fanout group ${f.group} must be an integer 0-65535`, {
      ifname,
    });
  }
  const mode = FanoutMode[f.mode];
  if (mode === undefined) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `unknown fanout mode ${JSON.stringify(f.mode)} (one of ${Object.keys(FanoutMode).join(', ')})`,
      { ifname },
    );
  }
  let type = mode;
  if (f.rollover) type |= FanoutFlag.ROLLOVER;
  if (f.defrag) type |= FanoutFlag.DEFRAG;
  if (f.ignoreOutgoing) type |= FanoutFlag.IGNORE_OUTGOING;
  setIntOpt(fd, SOL_PACKET, PacketOpt.FANOUT, f.group | (type << 16), 'PACKET_FANOUT', ifname);
}

const statsBuf = Buffer.alloc(8);
const statsLen = [8];

/** PACKET_STATISTICS: counts since the previous read (the kernel resets them on read). */
export function readPacketStats(fd: number, ifname: string): { packets: number; drops: number } {
  const c = libc();
  statsLen[0] = 8;
  if (c.getsockopt(fd, SOL_PACKET, PacketOpt.STATISTICS, statsBuf, statsLen) < 0) {
    throw syscallError('getsockopt(PACKET_STATISTICS)', c.errno(), { ifname });
  }
  return { packets: statsBuf.readUInt32LE(0), drops: statsBuf.readUInt32LE(4) };
}
