/**
 * Userspace IP-in-IP decapsulation for a TUN-mode real server whose kernel has no `ipip` module. A raw
 * `socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)` receives every protocol-4 datagram addressed to this host
 * (outer header included, already reassembled and checksum-checked by the kernel; reference §2). Each is
 * validated (outer destination must be one of ours, outer source optionally one of the directors; the
 * inner packet must be a well-formed IPv4 packet) and the inner packet is written to a TUN device, where
 * the kernel receives it as if it arrived there and delivers it to the VIP held on lo. Anything else is
 * dropped and counted.
 *
 * The caller brings the TUN up (`ip link set dev TUN up`) and relaxes reverse-path filtering on it
 * (`net.ipv4.conf.TUN.rp_filter=0` and `all`): the inner source is a client reached through another
 * interface, exactly as with the kernel's tunl0.
 */

import { parseIp } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { AF_INET, IPPROTO_IPIP, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW } from './constants.js';
import type { FdWatcher } from './fdwatch.js';
import { watchFd } from './fdwatch.js';
import { Errno, libc, syscallError } from './libc.js';
import { withNetns } from './netns.js';
import { PinnedBuffer } from './pinned.js';
import { TunDevice } from './tun.js';

export interface IpipDecapOptions {
  /** TUN device to create (or attach to) for the decapsulated packets. */
  tunName: string;
  /** Outer destinations accepted (this real server's addresses). */
  localAddresses: string[];
  /** Outer sources accepted (the directors); any source when omitted. */
  allowedSources?: string[];
  /** Network namespace to open the socket and the TUN in (name under /run/netns, or a path). */
  netns?: string;
  /** Datagrams handled per readiness callback before yielding to the event loop. Default 256. */
  burst?: number;
}

export interface IpipDecapStats {
  received: number;
  delivered: number;
  /** Outer or inner header inconsistent (version, lengths, inner checksum, not IPv4 inside). */
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
  if (local.length === 0)
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'ipip decap needs at least one local address');
  const sources =
    opts.allowedSources === undefined ? null : addressList(opts.allowedSources, 'allowedSources');
  const burst = opts.burst ?? 256;
  const c = libc();
  const { fd, tun } = withNetns(opts.netns, () => {
    const tun = TunDevice.open({ name: opts.tunName });
    const fd = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPIP);
    if (fd < 0) {
      const errno = c.errno();
      tun.close();
      throw syscallError('socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)', errno, { ifname: opts.tunName });
    }
    return { fd, tun };
  });
  const mem = new PinnedBuffer(MAX_DATAGRAM);
  const buf = mem.buf;
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

  const handle = (n: number): void => {
    stats.received++;
    const ohl = (buf[0]! & 0x0f) * 4;
    if (n < 20 || buf[0]! >> 4 !== 4 || ohl < 20 || ohl > n || buf[9] !== IPPROTO_IPIP) {
      stats.malformed++;
      return;
    }
    if (!contains(local, buf.readInt32BE(16))) {
      stats.notLocal++;
      return;
    }
    if (sources !== null && !contains(sources, buf.readInt32BE(12))) {
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
    if (tun.write(mem.address + inner, total)) stats.delivered++;
    else stats.tunDropped++;
  };

  let closed = false;
  const watcher: FdWatcher = watchFd(fd, { readable: true }, () => {
    for (let i = 0; i < burst && !closed; i++) {
      const n = c.recv(fd, mem.address, MAX_DATAGRAM, 0);
      if (n < 0) {
        const errno = c.errno();
        if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) stats.recvErrors++;
        return;
      }
      handle(n);
    }
  });

  return {
    tun,
    stats: () => ({ ...stats }),
    close() {
      if (closed) return;
      closed = true;
      watcher.close();
      c.close(fd);
      tun.close();
      mem.free();
    },
  };
}

function addressList(list: string[] | undefined, what: string): Int32Array {
  if (!Array.isArray(list))
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `ipip decap ${what} must be a list`);
  return Int32Array.from(list, (text) => {
    const a = parseIp(text);
    if (a.family !== 4) {
      throw new TslvsError(ErrorCodes.ADDRESS, `ipip decap ${what}: ${text} is not an IPv4 address`, {
        value: text,
      });
    }
    return a.words[0] | 0;
  });
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
