/**
 * Socket plumbing shared by the raw VRRP transports: option setters that throw named errors, binding to
 * an interface, draining a non-blocking socket from the main thread's event loop.
 */
import { SOL_SOCKET } from '../../dataplane/packet/constants.js';
import { type FdWatcher, watchFd } from '../../dataplane/packet/fdwatch.js';
import { Errno, libc, syscallError } from '../../dataplane/packet/libc.js';

export const IPPROTO_IP = 0;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_VRRP = 112;
export const AF_INET6 = 10;
export const SO_BINDTODEVICE = 25;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IPV6_CHECKSUM = 7;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_TCLASS = 67;
export const SIOCGIFADDR = 0x8915;
export const EADDRNOTAVAIL = 99;

/** Datagrams handled per readiness callback before yielding to the event loop. */
const BURST = 64;

export function setIntOption(
  fd: number,
  level: number,
  name: number,
  value: number,
  what: string,
  ifname: string,
): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value, 0);
  setOption(fd, level, name, b, what, ifname);
}

export function setOption(
  fd: number,
  level: number,
  name: number,
  value: Buffer,
  what: string,
  ifname: string,
): void {
  const c = libc();
  if (c.setsockopt(fd, level, name, value, value.length) < 0)
    throw syscallError(`setsockopt(${what})`, c.errno(), { ifname });
}

/** SO_BINDTODEVICE: only this interface's packets are received, and sends leave through it. */
export function bindToDevice(fd: number, ifname: string): void {
  const name = Buffer.alloc(Buffer.byteLength(ifname) + 1);
  name.write(ifname, 0, 'utf8');
  setOption(fd, SOL_SOCKET, SO_BINDTODEVICE, name, 'SO_BINDTODEVICE', ifname);
}

/**
 * Calls `onDatagram(len)` for each datagram read into `buf` while the socket has data, from the event
 * loop. Errors other than EAGAIN are counted through `onError`.
 */
export function drainOnReadable(
  fd: number,
  read: () => number,
  onDatagram: (len: number) => void,
  onError: (errno: number) => void,
): FdWatcher {
  return watchFd(fd, { readable: true }, () => {
    for (let i = 0; i < BURST; i++) {
      const n = read();
      if (n < 0) {
        const errno = libc().errno();
        if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) onError(errno);
        return;
      }
      onDatagram(n);
    }
  });
}
