/**
 * VRRPv3 over IPv6 (RFC 5798 §5.1.2) through one raw socket (protocol 112) per instance:
 * - sent from the interface's link-local address (RFC 5798 §5.1.2.1) to ff02::12 or each unicast peer,
 *   hop limit 255; the kernel fills the checksum (IPV6_CHECKSUM at offset 6) and verifies it on receive;
 * - IPv6 raw sockets never show the IP header, so recvmsg() asks for the hop limit and the destination
 *   as ancillary data (IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO) and the source comes from msg_name.
 * The msghdr, iovec, address, control and data buffers live in one PinnedBuffer, whose address never
 * moves, so the pointers inside the msghdr stay valid for the socket's lifetime.
 */
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW } from '../../dataplane/packet/constants.js';
import type { FdWatcher } from '../../dataplane/packet/fdwatch.js';
import { interfaceInfo } from '../../dataplane/packet/ifinfo.js';
import { errnoName, libc, syscallError } from '../../dataplane/packet/libc.js';
import { PinnedBuffer } from '../../dataplane/packet/pinned.js';
import { formatIp, type IpAddress, ipFromBytes, ipToBytes } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { VRRP_GROUP_V6 } from '../../wire/vrrp.js';
import type { RxPacket } from '../vrrp/receive.js';
import {
  AF_INET6,
  bindToDevice,
  drainOnReadable,
  IPPROTO_IPV6,
  IPPROTO_VRRP,
  IPV6_ADD_MEMBERSHIP,
  IPV6_CHECKSUM,
  IPV6_HOPLIMIT,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_PKTINFO,
  IPV6_RECVHOPLIMIT,
  IPV6_RECVPKTINFO,
  IPV6_TCLASS,
  IPV6_UNICAST_HOPS,
  setIntOption,
  setOption,
} from './sockets.js';
import type { TransportOptions, VrrpTransport } from './types.js';

// Layout of the pinned block (x86-64 struct sizes).
const MSG = 0; // struct msghdr, 56 bytes
const IOV = 64; // struct iovec, 16 bytes
const NAME = 80; // struct sockaddr_in6, 28 bytes
const NAME_LEN = 28;
const CONTROL = 112;
const CONTROL_LEN = 128;
const DATA = 240;
const DATA_LEN = 2048;
const BLOCK = DATA + DATA_LEN;

const IFA_F_TENTATIVE = 0x40;
const IFA_F_DADFAILED = 0x08;
const SCOPE_LINK = 0x20;

type RecvMsg = (fd: number, msg: number, flags: number) => number;
let recvmsgFn: RecvMsg | null = null;
function recvmsg(): RecvMsg {
  recvmsgFn ??= koffi.load('libc.so.6').func('intptr_t recvmsg(int, void *, int)') as RecvMsg;
  return recvmsgFn;
}

/** The interface's usable link-local address, from /proc/net/if_inet6 (this namespace's). */
export function linkLocalIpv6(ifname: string, procFile = '/proc/net/if_inet6'): IpAddress {
  let text = '';
  try {
    text = readFileSync(procFile, 'utf8');
  } catch {
    text = '';
  }
  for (const line of text.split('\n')) {
    const [hex, , , scope, flags, name] = line.trim().split(/\s+/);
    if (name !== ifname || !hex || hex.length !== 32) continue;
    if (Number.parseInt(scope ?? '0', 16) !== SCOPE_LINK) continue;
    if (Number.parseInt(flags ?? '0', 16) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) continue;
    const words = [0, 1, 2, 3].map((i) => Number.parseInt(hex.slice(8 * i, 8 * i + 8), 16) >>> 0);
    return { family: 6, words: words as [number, number, number, number] };
  }
  throw new TslvsError(
    ErrorCodes.ENVIRONMENT,
    `interface ${ifname} has no usable IPv6 link-local address to send VRRP from (IPv6 off, or DAD not done)`,
    { ifname },
  );
}

function writeSockaddrIn6(b: Buffer, off: number, a: IpAddress, scopeId: number): void {
  b.fill(0, off, off + NAME_LEN);
  b.writeUInt16LE(AF_INET6, off);
  ipToBytes(a, b, off + 8);
  b.writeUInt32LE(scopeId, off + 24);
}

function isLinkScoped(a: IpAddress): boolean {
  return a.words[0] >>> 22 === 0x3fa || a.words[0] >>> 16 === 0xff02;
}

export class RawIpv6Transport implements VrrpTransport {
  readonly family = 6 as const;
  readonly source: IpAddress;
  malformed = 0;
  recvErrors = 0;
  lastError: string | null = null;
  readonly #fd: number;
  readonly #ifname: string;
  readonly #ifindex: number;
  readonly #mem: PinnedBuffer;
  readonly #dst = Buffer.alloc(NAME_LEN);
  #watcher: FdWatcher | null = null;
  #handler: ((pkt: RxPacket) => void) | null = null;
  #closed = false;

  constructor(opts: TransportOptions) {
    if (opts.family !== 6) throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'RawIpv6Transport is IPv6 only');
    const ifname = opts.interface;
    this.#ifname = ifname;
    const info = interfaceInfo(ifname);
    this.#ifindex = info.index;
    this.source = opts.source ?? linkLocalIpv6(ifname);
    const c = libc();
    const fd = c.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_VRRP);
    if (fd < 0) throw syscallError('socket(AF_INET6, SOCK_RAW, 112)', c.errno(), { ifname });
    this.#fd = fd;
    try {
      bindToDevice(fd, ifname);
      const src = Buffer.alloc(NAME_LEN);
      writeSockaddrIn6(src, 0, this.source, isLinkScoped(this.source) ? info.index : 0);
      if (c.bind(fd, src, NAME_LEN) < 0)
        throw syscallError(`bind(${formatIp(this.source)})`, c.errno(), { ifname });
      setIntOption(fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6, 'IPV6_CHECKSUM', ifname);
      setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, 'IPV6_MULTICAST_HOPS', ifname);
      setIntOption(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, 'IPV6_UNICAST_HOPS', ifname);
      setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, 'IPV6_MULTICAST_LOOP', ifname);
      setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, info.index, 'IPV6_MULTICAST_IF', ifname);
      setIntOption(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, 'IPV6_RECVHOPLIMIT', ifname);
      // Traffic class "network control", as the IPv4 TOS 0xc0 (keepalived sets the same).
      setIntOption(fd, IPPROTO_IPV6, IPV6_TCLASS, 0xc0, 'IPV6_TCLASS', ifname);
      setIntOption(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, 'IPV6_RECVPKTINFO', ifname);
      if (opts.unicastPeers.length === 0) {
        const mreq = Buffer.alloc(20); // struct ipv6_mreq { in6_addr, ifindex }
        ipToBytes({ family: 6, words: VRRP_GROUP_V6 }, mreq, 0);
        mreq.writeInt32LE(info.index, 16);
        setOption(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq, 'IPV6_ADD_MEMBERSHIP ff02::12', ifname);
      }
      this.#mem = new PinnedBuffer(BLOCK);
    } catch (err) {
      c.close(fd);
      throw err;
    }
    this.#initMsghdr();
    const call = recvmsg();
    this.#watcher = drainOnReadable(
      fd,
      () => {
        const b = this.#mem.buf;
        b.writeUInt32LE(NAME_LEN, MSG + 8);
        b.writeBigUInt64LE(BigInt(CONTROL_LEN), MSG + 40);
        return call(fd, this.#mem.address + MSG, 0);
      },
      (n) => this.#datagram(n),
      (errno) => {
        this.recvErrors++;
        this.lastError = `recvmsg on ${ifname}: ${errnoName(errno)}`;
      },
    );
  }

  send(dst: IpAddress, message: Uint8Array): boolean {
    if (this.#closed) return false;
    writeSockaddrIn6(this.#dst, 0, dst, isLinkScoped(dst) ? this.#ifindex : 0);
    const c = libc();
    if (c.sendto(this.#fd, message, message.length, 0, this.#dst, NAME_LEN) < 0) {
      this.lastError = `sendto on ${this.#ifname}: ${errnoName(c.errno())}`;
      return false;
    }
    return true;
  }

  onReceive(handler: (pkt: RxPacket) => void): void {
    this.#handler = handler;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher?.close();
    libc().close(this.#fd);
    this.#mem.free();
  }

  #initMsghdr(): void {
    const b = this.#mem.buf;
    const base = BigInt(this.#mem.address);
    b.fill(0, 0, DATA);
    b.writeBigUInt64LE(base + BigInt(NAME), MSG);
    b.writeBigUInt64LE(base + BigInt(IOV), MSG + 16);
    b.writeBigUInt64LE(1n, MSG + 24);
    b.writeBigUInt64LE(base + BigInt(CONTROL), MSG + 32);
    b.writeBigUInt64LE(base + BigInt(DATA), IOV);
    b.writeBigUInt64LE(BigInt(DATA_LEN), IOV + 8);
  }

  #datagram(n: number): void {
    const b = this.#mem.buf;
    if (b.readUInt16LE(NAME) !== AF_INET6) {
      this.malformed++;
      return;
    }
    const src = ipFromBytes(b, NAME + 8, 6);
    let ttl = -1;
    let dst: IpAddress | null = null;
    const controlLen = Number(b.readBigUInt64LE(MSG + 40));
    for (let off = CONTROL; off + 16 <= CONTROL + controlLen; ) {
      const len = Number(b.readBigUInt64LE(off));
      if (len < 16) break;
      const level = b.readInt32LE(off + 8);
      const type = b.readInt32LE(off + 12);
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT) ttl = b.readInt32LE(off + 16);
      else if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO) dst = ipFromBytes(b, off + 16, 6);
      off += (len + 7) & ~7;
    }
    if (!dst) {
      this.malformed++;
      return;
    }
    this.#handler?.({ src, dst, ttl, message: b.subarray(DATA, DATA + n) });
  }
}
