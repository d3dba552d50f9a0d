/**
 * VRRP over IPv4 through one raw socket (protocol 112) per instance, as keepalived does:
 * - IP_HDRINCL: we write the IP header, so TTL is 255 (RFC 5798 §5.1.1.3), TOS 0xc0 and the source is
 *   exactly the address the v3 checksum's pseudo-header used (the kernel fills ID and header checksum);
 * - SO_BINDTODEVICE: only this interface's adverts are received and ours leave through it;
 * - multicast: joined to 224.0.0.18 on the interface, our own adverts not looped back;
 * - received datagrams include the IP header, so TTL and destination are checked in receive.ts.
 */

import {
  AF_INET,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
} from '../../dataplane/packet/constants.js';
import type { FdWatcher } from '../../dataplane/packet/fdwatch.js';
import { ifreq, interfaceInfo } from '../../dataplane/packet/ifinfo.js';
import { errnoName, libc, syscallError } from '../../dataplane/packet/libc.js';
import { type IpAddress, ipv4 } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { VRRP_GROUP_V4 } from '../../wire/vrrp.js';
import { withIpv4Header } from '../vrrp/advert.js';
import { parseIpv4Datagram, type RxPacket } from '../vrrp/receive.js';
import {
  bindToDevice,
  drainOnReadable,
  EADDRNOTAVAIL,
  IP_ADD_MEMBERSHIP,
  IP_HDRINCL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_VRRP,
  SIOCGIFADDR,
  setIntOption,
  setOption,
} from './sockets.js';
import type { TransportOptions, VrrpTransport } from './types.js';

const MAX_DATAGRAM = 2048;

/** The interface's primary IPv4 address (SIOCGIFADDR: the first address, as keepalived's ifp->sin_addr). */
export function primaryIpv4(ifname: string): IpAddress {
  const c = libc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw syscallError('socket(AF_INET, SOCK_DGRAM)', c.errno(), { ifname });
  try {
    const req = ifreq(ifname);
    if (c.ioctl(fd, SIOCGIFADDR, req) < 0) {
      const errno = c.errno();
      if (errno === EADDRNOTAVAIL) {
        throw new TslvsError(
          ErrorCodes.ENVIRONMENT,
          `interface ${ifname} has no IPv4 address to send VRRP from`,
          {
            ifname,
          },
        );
      }
      throw syscallError('ioctl(SIOCGIFADDR)', errno, { ifname });
    }
    return ipv4(req.readUInt32BE(20));
  } finally {
    c.close(fd);
  }
}

function sockaddrIn(a: IpAddress): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt32BE(a.words[0], 4);
  return b;
}

export class RawIpv4Transport implements VrrpTransport {
  readonly family = 4 as const;
  readonly source: IpAddress;
  malformed = 0;
  recvErrors = 0;
  lastError: string | null = null;
  readonly #fd: number;
  readonly #ifname: string;
  readonly #buf = Buffer.alloc(MAX_DATAGRAM);
  #watcher: FdWatcher | null = null;
  #handler: ((pkt: RxPacket) => void) | null = null;
  #closed = false;

  constructor(opts: TransportOptions) {
    if (opts.family !== 4) throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'RawIpv4Transport is IPv4 only');
    const ifname = opts.interface;
    this.#ifname = ifname;
    const info = interfaceInfo(ifname); // ENVIRONMENT error when the interface does not exist
    this.source = opts.source ?? primaryIpv4(ifname);
    const c = libc();
    const fd = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_VRRP);
    if (fd < 0) throw syscallError('socket(AF_INET, SOCK_RAW, 112)', c.errno(), { ifname });
    this.#fd = fd;
    try {
      bindToDevice(fd, ifname);
      setIntOption(fd, IPPROTO_IP, IP_HDRINCL, 1, 'IP_HDRINCL', ifname);
      setIntOption(fd, IPPROTO_IP, IP_TTL, 255, 'IP_TTL', ifname);
      setIntOption(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255, 'IP_MULTICAST_TTL', ifname);
      setIntOption(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, 'IP_MULTICAST_LOOP', ifname);
      const mreqn = Buffer.alloc(12); // struct ip_mreqn { multiaddr, address, ifindex }
      mreqn.writeUInt32BE(this.source.words[0], 4);
      mreqn.writeInt32LE(info.index, 8);
      setOption(fd, IPPROTO_IP, IP_MULTICAST_IF, mreqn, 'IP_MULTICAST_IF', ifname);
      if (opts.unicastPeers.length === 0) {
        mreqn.writeUInt32BE(VRRP_GROUP_V4, 0);
        setOption(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, 'IP_ADD_MEMBERSHIP 224.0.0.18', ifname);
      }
    } catch (err) {
      c.close(fd);
      throw err;
    }
    this.#watcher = drainOnReadable(
      fd,
      () => c.recvfrom(fd, this.#buf, MAX_DATAGRAM, 0, null, null),
      (n) => this.#datagram(n),
      (errno) => {
        this.recvErrors++;
        this.lastError = `recv on ${ifname}: ${errnoName(errno)}`;
      },
    );
  }

  send(dst: IpAddress, message: Uint8Array): boolean {
    if (this.#closed) return false;
    const packet = withIpv4Header(message, this.source, dst);
    const addr = sockaddrIn(dst);
    const c = libc();
    if (c.sendto(this.#fd, packet, packet.length, 0, addr, addr.length) < 0) {
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
  }

  #datagram(n: number): void {
    const pkt = parseIpv4Datagram(this.#buf.subarray(0, n));
    if (!pkt) {
      this.malformed++;
      return;
    }
    this.#handler?.(pkt);
  }
}
