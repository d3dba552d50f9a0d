/**
 * Userspace IP-in-IP decapsulation for a TUN-mode real server whose kernel has no `ipip` module. A raw
 * `socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)` receives every protocol-4 datagram addressed to this host
 * (outer header included, already reassembled and checksum-checked by the kernel; reference §2). Each is
 * validated (outer destination must be one of ours, outer source optionally one of the directors; the
 * inner packet must be a well-formed IPv4 packet) and the inner packet is written to a TUN device, where
 * the kernel receives it as if it arrived there and delivers it to the VIP held on lo. Anything else is
 * dropped and counted.
 *
 * IPv6 real servers get IPv6-in-IPv6 (RFC 2473, next header 41; the kernel's ip6_tunnel module is missing
 * just as often): one raw `socket(AF_INET6, SOCK_RAW, IPPROTO_IPV6)` per local IPv6 address, bound to it
 * so the kernel filters the outer destination. An IPv6 raw socket hands over the payload only, so the
 * outer source comes from recvfrom() and the outer traffic class is not seen (RFC 6040 CE propagation is
 * IPv4-only here). Registering the raw socket also keeps the kernel from answering each tunnelled packet
 * with an ICMPv6 "unknown next header".
 *
 * The caller brings the TUN up (`ip link set dev TUN up`) and relaxes reverse-path filtering on it
 * (`net.ipv4.conf.TUN.rp_filter=0` and `all`): the inner source is a client reached through another
 * interface, exactly as with the kernel's tunl0.
 */

import { parseIp } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import {
  AF_INET,
  AF_INET6,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
} from './constants.js';
import type { FdWatcher } from './fdwatch.js';
import { watchFd } from './fdwatch.js';
import { Errno, libc, syscallError } from './libc.js';
import { withNetns } from './netns.js';
import { PinnedBuffer } from './pinned.js';
import { TunDevice } from './tun.js';

export interface IpipDecapOptions {
  /** TUN device to create (or attach to) for the decapsulated packets. */
  tunName: string;
  /** Outer destinations accepted (this real server's addresses, IPv4 and IPv6). */
  localAddresses: string[];
  /** Outer sources accepted (the directors, IPv4 and IPv6); any source when omitted. */
  allowedSources?: string[];
  /** Network namespace to open the socket and the TUN in (name under /run/netns, or a path). */
  netns?: string;
  /** Datagrams handled per readiness callback before yielding to the event loop. Default 256. */
  burst?: number;
}

export interface IpipDecapStats {
  received: number;
  delivered: number;
  /** Outer or inner header inconsistent (version, lengths, inner checksum, not the outer family inside). */
  malformed: number;
  /** Outer destination is not one of `localAddresses`. */
  notLocal: number;
  /** Outer source is not one of `allowedSources`. */
  sourceRejected: number;
  /** RFC 6040: outer CE on a not-ECN-capable inner packet. */
  ecnDropped: number;
  /** The TUN refused the inner packet (queue full, link down). */
  tunDropped: number;
  /** recv() failed with something other than EAGAIN. */
  recvErrors: number;
}

export interface IpipDecap {
  readonly tun: TunDevice;
  stats(): IpipDecapStats;
  /** Stops receiving and closes the socket and the TUN, once. */
  close(): void;
}

const MAX_DATAGRAM = 65536;

export function startIpipDecap(opts: IpipDecapOptions): IpipDecap {
  const local = addressList(opts.localAddresses, 'localAddresses');
  if (local.v4.length + local.v6.length === 0)
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'ipip decap needs at least one local address');
  const sources =
    opts.allowedSources === undefined ? null : addressList(opts.allowedSources, 'allowedSources');
  const burst = opts.burst ?? 256;
  const c = libc();
  const { fd4, fds6, tun } = withNetns(opts.netns, () => openSockets(opts.tunName, local));
  const closeAll = () => {
    if (fd4 >= 0) c.close(fd4);
    for (const fd of fds6) c.close(fd);
    tun.close();
  };
  let mem: PinnedBuffer;
  try {
    mem = new PinnedBuffer(MAX_DATAGRAM);
  } catch (err) {
    closeAll();
    throw err;
  }
  const buf = mem.buf;
  const from = new Uint8Array(SOCKADDR_IN6_LEN);
  const fromLen = [SOCKADDR_IN6_LEN];
  const stats: IpipDecapStats = {
    received: 0,
    delivered: 0,
    malformed: 0,
    notLocal: 0,
    sourceRejected: 0,
    ecnDropped: 0,
    tunDropped: 0,
    recvErrors: 0,
  };
  const deliver = (off: number, len: number): void => {
    if (tun.write(mem.address + off, len)) stats.delivered++;
    else stats.tunDropped++;
  };

  const handle4 = (n: number): void => {
    stats.received++;
    const ohl = (buf[0]! & 0x0f) * 4;
    if (n < 20 || buf[0]! >> 4 !== 4 || ohl < 20 || ohl > n || buf[9] !== IPPROTO_IPIP) {
      stats.malformed++;
      return;
    }
    if (!contains(local.v4, buf.readInt32BE(16))) {
      stats.notLocal++;
      return;
    }
    if (sources !== null && !contains(sources.v4, buf.readInt32BE(12))) {
      stats.sourceRejected++;
      return;
    }
    const inner = ohl;
    const room = Math.min(n, buf.readUInt16BE(2)) - inner;
    const ihl = (buf[inner]! & 0x0f) * 4;
    const total = room >= 20 ? buf.readUInt16BE(inner + 2) : 0;
    if (
      room < 20 ||
      buf[inner]! >> 4 !== 4 ||
      ihl < 20 ||
      total < ihl ||
      total > room ||
      headerSum(buf, inner, ihl) !== 0xffff
    ) {
      stats.malformed++;
      return;
    }
    if ((buf[1]! & 3) === 3) {
      // RFC 6040 §4.2: CE outside marks an ECN-capable packet CE inside, and drops a not-ECT one.
      const ecn = buf[inner + 1]! & 3;
      if (ecn === 0) {
        stats.ecnDropped++;
        return;
      }
      if (ecn !== 3) {
        buf[inner + 1] = buf[inner + 1]! | 3;
        buf.writeUInt16BE(0, inner + 10);
        buf.writeUInt16BE(~headerSum(buf, inner, ihl) & 0xffff, inner + 10);
      }
    }
    deliver(inner, total);
  };

  /** `n` bytes of an IPv6 tunnel payload (the inner packet), from the outer source in `from`. */
  const handle6 = (n: number): void => {
    stats.received++;
    if (sources !== null && !contains6(sources.v6, from, 8)) {
      stats.sourceRejected++;
      return;
    }
    if (n < 40 || buf[0]! >> 4 !== 6 || 40 + buf.readUInt16BE(4) > n) {
      stats.malformed++;
      return;
    }
    deliver(0, 40 + buf.readUInt16BE(4));
  };

  let closed = false;
  const drain = (fd: number, v6: boolean) => () => {
    for (let i = 0; i < burst && !closed; i++) {
      fromLen[0] = SOCKADDR_IN6_LEN;
      const n = v6
        ? c.recvfrom(fd, mem.address, MAX_DATAGRAM, 0, from, fromLen)
        : c.recv(fd, mem.address, MAX_DATAGRAM, 0);
      if (n < 0) {
        const errno = c.errno();
        if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) stats.recvErrors++;
        return;
      }
      if (v6) handle6(n);
      else handle4(n);
    }
  };
  const watchers: FdWatcher[] = [];
  try {
    if (fd4 >= 0) watchers.push(watchFd(fd4, { readable: true }, drain(fd4, false)));
    for (const fd of fds6) watchers.push(watchFd(fd, { readable: true }, drain(fd, true)));
  } catch (err) {
    for (const w of watchers) w.close();
    closeAll();
    mem.free();
    throw err;
  }

  return {
    tun,
    stats: () => ({ ...stats }),
    close() {
      if (closed) return;
      closed = true;
      for (const w of watchers) w.close();
      closeAll();
      mem.free();
    },
  };
}

const SOCKADDR_IN6_LEN = 28;

/** The TUN, the IPIP socket (when there are IPv4 local addresses) and one bound socket per IPv6 one. */
function openSockets(tunName: string, local: Addresses): { fd4: number; fds6: number[]; tun: TunDevice } {
  const c = libc();
  const tun = TunDevice.open({ name: tunName });
  const opened: number[] = [];
  const fail = (what: string, errno: number): never => {
    for (const fd of opened) c.close(fd);
    tun.close();
    throw syscallError(what, errno, { ifname: tunName });
  };
  let fd4 = -1;
  if (local.v4.length > 0) {
    fd4 = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPIP);
    if (fd4 < 0) fail('socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)', c.errno());
    opened.push(fd4);
  }
  const fds6: number[] = [];
  for (let k = 0; k < local.v6.length / 16; k++) {
    const fd = c.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);
    if (fd < 0) fail('socket(AF_INET6, SOCK_RAW, IPPROTO_IPV6)', c.errno());
    opened.push(fd);
    const sa = new Uint8Array(SOCKADDR_IN6_LEN);
    new DataView(sa.buffer).setUint16(0, AF_INET6, true);
    sa.set(local.v6.subarray(k * 16, k * 16 + 16), 8);
    if (c.bind(fd, sa, sa.length) < 0) fail('bind(IPv6 tunnel socket)', c.errno());
    fds6.push(fd);
  }
  return { fd4, fds6, tun };
}

interface Addresses {
  v4: Int32Array;
  /** 16 bytes per address. */
  v6: Uint8Array;
}

function addressList(list: string[] | undefined, what: string): Addresses {
  if (!Array.isArray(list))
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `ipip decap ${what} must be a list`);
  const parsed = list.map((text) => {
    try {
      return parseIp(text);
    } catch (err) {
      throw new TslvsError(
        ErrorCodes.ADDRESS,
        `ipip decap ${what}: '${text}' is not an IP address`,
        {
          value: text,
        },
        { cause: err },
      );
    }
  });
  const v4 = Int32Array.from(
    parsed.filter((a) => a.family === 4),
    (a) => a.words[0] | 0,
  );
  const six = parsed.filter((a) => a.family === 6);
  const v6 = new Uint8Array(six.length * 16);
  six.forEach((a, k) => {
    for (let i = 0; i < 4; i++) new DataView(v6.buffer).setUint32(k * 16 + i * 4, a.words[i]! >>> 0);
  });
  return { v4, v6 };
}

function contains6(list: Uint8Array, addr: Uint8Array, off: number): boolean {
  for (let k = 0; k < list.length; k += 16) {
    let same = true;
    for (let i = 0; i < 16 && same; i++) same = list[k + i] === addr[off + i];
    if (same) return true;
  }
  return false;
}

function contains(list: Int32Array, addr: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === addr) return true;
  return false;
}

/** One's-complement sum of an IPv4 header, folded (0xFFFF when the checksum inside is right). */
function headerSum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (buf[off + i]! << 8) | buf[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
