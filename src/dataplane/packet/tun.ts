/**
 * TUN devices (layer 3, IFF_TUN | IFF_NO_PI): every read returns one IP packet, every write injects one
 * into the kernel as if it had arrived on the device. The descriptor is non-blocking; wait with `watch()`
 * (main thread) or `poll()` (worker). Bringing the link up and addressing it is the caller's job (`ip`).
 *
 * With `vnetHdr`, every packet read or written starts with a 10-byte virtio_net_hdr; `offload` flags
 * (TunOffload) then tell the kernel it may hand us unfinished checksums or GSO super-packets.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { IFNAMSIZ, Ioctl, O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLIN, TunFlag } from './constants.js';
import { type FdWatcher, PollSet, type Readiness, watchFd } from './fdwatch.js';
import { ifreq } from './ifinfo.js';
import { Errno, libc, syscallError } from './libc.js';

export interface TunOptions {
  /** Device name; a `%d` is replaced by the kernel with the first free number (e.g. `lbtun%d`). */
  name: string;
  vnetHdr?: boolean;
  /** TUNSETOFFLOAD flags (TunOffload); only meaningful with vnetHdr. */
  offload?: number;
}

export interface TunCounters {
  readPackets: number;
  readBytes: number;
  writePackets: number;
  writeBytes: number;
  /** Writes refused for lack of room (EAGAIN/ENOBUFS): the packet was dropped. */
  writeDropped: number;
  /** Writes that failed otherwise (EINVAL for a malformed packet, EIO while the link is down...). */
  writeErrors: number;
}

const TUN_PATH = '/dev/net/tun';

export class TunDevice {
  readonly fd: number;
  /** The name the kernel gave the device (templates resolved). */
  readonly name: string;
  readonly vnetHdr: boolean;
  readonly counters: TunCounters = {
    readPackets: 0,
    readBytes: 0,
    writePackets: 0,
    writeBytes: 0,
    writeDropped: 0,
    writeErrors: 0,
  };
  readonly #poll: PollSet;
  #closed = false;

  private constructor(fd: number, name: string, vnetHdr: boolean) {
    this.fd = fd;
    this.name = name;
    this.vnetHdr = vnetHdr;
    this.#poll = new PollSet([{ fd, events: POLLIN }]);
  }

  /** Creates (or attaches to) the TUN device in the calling thread's network namespace. */
  static open(opts: TunOptions): TunDevice {
    const name = opts.name;
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      Buffer.byteLength(name) >= IFNAMSIZ ||
      /[\s/:]/.test(name)
    ) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `invalid TUN device name ${JSON.stringify(name)}`, {
        ifname: name,
      });
    }
    const c = libc();
    const fd = c.open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) {
      const errno = c.errno();
      if (errno === Errno.ENOENT || errno === Errno.ENODEV || errno === Errno.ENXIO) {
        throw new TslvsError(ErrorCodes.ENVIRONMENT, `${TUN_PATH} is not available (no tun driver?)`, {
          path: TUN_PATH,
          errno,
        });
      }
      throw syscallError('open', errno, { path: TUN_PATH, ifname: name });
    }
    try {
      const req = ifreq(name);
      const vnet = opts.vnetHdr ?? false;
      req.writeUInt16LE(TunFlag.TUN | TunFlag.NO_PI | (vnet ? TunFlag.VNET_HDR : 0), 16);
      if (c.ioctl(fd, Ioctl.TUNSETIFF, req) < 0)
        throw syscallError('ioctl(TUNSETIFF)', c.errno(), { ifname: name });
      const actual = req.toString('utf8', 0, IFNAMSIZ).replace(/\0.*$/s, '');
      if (vnet && opts.offload) {
        if (c.ioctl(fd, Ioctl.TUNSETOFFLOAD, opts.offload) < 0) {
          throw syscallError('ioctl(TUNSETOFFLOAD)', c.errno(), { ifname: actual });
        }
      }
      return new TunDevice(fd, actual, vnet);
    } catch (err) {
      c.close(fd);
      throw err;
    }
  }

  /**
   * Reads one packet into `buf` (at its start). Returns its length, or -1 when none is waiting.
   * A packet longer than `buf` is truncated by the kernel; size buffers for the device MTU (+10 with vnet).
   */
  read(buf: Uint8Array): number {
    if (this.#closed) return -1;
    const c = libc();
    const n = c.read(this.fd, buf, buf.length);
    if (n < 0) {
      const errno = c.errno();
      if (errno === Errno.EAGAIN || errno === Errno.EINTR) return -1;
      throw syscallError('read', errno, { ifname: this.name });
    }
    this.counters.readPackets++;
    this.counters.readBytes += n;
    return n;
  }

  /**
   * Injects one packet: `len` bytes from `src`, either a buffer or a stable address (PinnedBuffer.address
   * + offset). Never throws on the hot path: returns false and counts when the kernel refuses it.
   */
  write(src: Uint8Array | number, len: number): boolean {
    if (this.#closed) return false;
    const c = libc();
    const n = c.write(this.fd, src, len);
    if (n === len) {
      this.counters.writePackets++;
      this.counters.writeBytes += n;
      return true;
    }
    const errno = n < 0 ? c.errno() : 0;
    if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) this.counters.writeDropped++;
    else this.counters.writeErrors++;
    return false;
  }

  /** Blocks until a packet is waiting or `timeoutMs` passes; returns poll revents (0 on timeout). */
  poll(timeoutMs: number): number {
    if (this.#closed) return 0;
    return this.#poll.wait(timeoutMs) > 0 ? this.#poll.revents(0) : 0;
  }

  /** Main-thread readiness; `onReady` runs while packets wait (drain them). */
  watch(onReady: (ready: Readiness) => void): FdWatcher {
    return watchFd(this.fd, { readable: true }, onReady);
  }

  /** Closes the descriptor once; a non-persistent device disappears with it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().close(this.fd);
  }
}
