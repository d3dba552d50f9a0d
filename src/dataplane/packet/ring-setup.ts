/**
 * Socket plumbing for PacketRing.open(): option setting in the order the kernel requires (reference §1.1:
 * version and VNET_HDR/RESERVE/LOSS before the rings, bind before fanout).
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import {
  AF_PACKET,
  ETH_P_ALL,
  FanoutFlag,
  FanoutMode,
  PACKET_MR_PROMISC,
  PacketOpt,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  SOL_PACKET,
  SOL_SOCKET,
} from './constants.js';
import { Errno, libc, syscallError } from './libc.js';

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
