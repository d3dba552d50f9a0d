/**
 * Interface facts (index, MAC, MTU, flags) through SIOCGIF* ioctls. ioctls answer for the network namespace
 * of the calling thread, which is what a ring opened inside `withNetns()` or a worker that joined a namespace
 * needs; /sys/class/net would describe the namespace sysfs was mounted in instead.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import {
  AF_INET,
  ARPHRD_ETHER,
  IFNAMSIZ,
  IFREQ_LEN,
  IfFlag,
  Ioctl,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from './constants.js';
import { Errno, libc, syscallError } from './libc.js';

export interface InterfaceInfo {
  readonly name: string;
  readonly index: number;
  /** ARPHRD_* hardware type (1 = Ethernet). */
  readonly hwType: number;
  /** 6-byte hardware address for Ethernet, empty otherwise. */
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** IFF_* flags (the 16 bits SIOCGIFFLAGS reports). */
  readonly flags: number;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** IFF_RUNNING: the kernel sets it exactly when operstate is UP or UNKNOWN (netif_oper_up). */
  readonly running: boolean;
  readonly operstate: 'up' | 'down';
}

/** Throws TSLVS_ERR_INVALID_ARGUMENT unless `name` can be a Linux interface name. */
export function validateIfname(name: string): void {
  const ok =
    typeof name === 'string' &&
    name.length > 0 &&
    Buffer.byteLength(name) < IFNAMSIZ &&
    name !== '.' &&
    name !== '..' &&
    !/[\s/:]/.test(name);
  if (!ok) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `invalid interface name ${JSON.stringify(name)}: 1-15 bytes, no whitespace, '/' or ':'`,
      { ifname: name },
    );
  }
}

/** A zeroed `struct ifreq` carrying `name`. */
export function ifreq(name: string): Buffer {
  const buf = Buffer.alloc(IFREQ_LEN);
  buf.write(name, 0, IFNAMSIZ - 1, 'utf8');
  return buf;
}

/**
 * Reads index, MAC, MTU and flags of `name`. `fd` may be any socket of the namespace to ask (one is opened
 * and closed when omitted). A missing interface is TSLVS_ERR_ENVIRONMENT.
 */
export function interfaceInfo(name: string, fd?: number): InterfaceInfo {
  validateIfname(name);
  const c = libc();
  const own = fd === undefined;
  const sock = own ? c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : fd;
  if (sock < 0) throw syscallError('socket(AF_INET, SOCK_DGRAM)', c.errno(), { ifname: name });
  try {
    const req = ifreq(name);
    ask(sock, Ioctl.SIOCGIFINDEX, 'SIOCGIFINDEX', req, name);
    const index = req.readInt32LE(16);
    ask(sock, Ioctl.SIOCGIFMTU, 'SIOCGIFMTU', req, name);
    const mtu = req.readInt32LE(16);
    ask(sock, Ioctl.SIOCGIFHWADDR, 'SIOCGIFHWADDR', req, name);
    const hwType = req.readUInt16LE(16);
    const mac = hwType === ARPHRD_ETHER ? Uint8Array.from(req.subarray(18, 24)) : new Uint8Array(0);
    ask(sock, Ioctl.SIOCGIFFLAGS, 'SIOCGIFFLAGS', req, name);
    const flags = req.readUInt16LE(16);
    const running = (flags & IfFlag.RUNNING) !== 0;
    return {
      name,
      index,
      hwType,
      mac,
      mtu,
      flags,
      up: (flags & IfFlag.UP) !== 0,
      running,
      operstate: running ? 'up' : 'down',
    };
  } finally {
    if (own) c.close(sock);
  }
}

/** Like `interfaceInfo` but returns null instead of throwing when the interface does not exist. */
export function findInterface(name: string, fd?: number): InterfaceInfo | null {
  try {
    return interfaceInfo(name, fd);
  } catch (err) {
    if (err instanceof TslvsError && err.code === ErrorCodes.ENVIRONMENT) return null;
    throw err;
  }
}

/** Formats a MAC as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into 6 bytes; TSLVS_ERR_INVALID_ARGUMENT otherwise. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `invalid MAC address ${JSON.stringify(text)}`, {
      mac: text,
    });
  }
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

function ask(fd: number, request: number, call: string, req: Buffer, name: string): void {
  const c = libc();
  if (c.ioctl(fd, request, req) >= 0) return;
  const errno = c.errno();
  if (errno === Errno.ENODEV || errno === Errno.ENXIO) {
    throw new TslvsError(
      ErrorCodes.ENVIRONMENT,
      `network interface ${name} does not exist in this namespace`,
      {
        ifname: name,
        errno,
      },
    );
  }
  throw syscallError(`ioctl(${call})`, errno, { ifname: name });
}
