/**
 * Waiting for file descriptors. Two ways, for two places:
 * - `PollSet.wait()` blocks in poll(2): for a worker thread, which has nothing else to do while idle; keep
 *   the timeout bounded so the worker still notices a stop request (a thread blocked in a foreign call
 *   cannot be terminated).
 * - `watchFd()` uses koffi.node.poll (libuv uv_poll, level-triggered: it fires again and again until the fd
 *   is drained): for the main thread, whose event loop must keep running.
 */
import koffi from 'koffi';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from './constants.js';
import { libc, syscallError } from './libc.js';

export { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT };

const POLLFD_LEN = 8;

/** A reusable `struct pollfd[]` for blocking waits without per-call allocation. */
export class PollSet {
  readonly #buf: Buffer;
  readonly #count: number;

  constructor(entries: ReadonlyArray<{ fd: number; events: number }>) {
    this.#count = entries.length;
    this.#buf = Buffer.alloc(POLLFD_LEN * Math.max(1, entries.length));
    entries.forEach((e, i) => {
      this.#buf.writeInt32LE(e.fd, i * POLLFD_LEN);
      this.#buf.writeInt16LE(e.events, i * POLLFD_LEN + 4);
    });
  }

  get size(): number {
    return this.#count;
  }

  /**
   * Blocks up to `timeoutMs` (0 = just check). Returns the number of ready fds, 0 on timeout or EINTR.
   * Throws TSLVS_ERR_SYSCALL on other failures.
   */
  wait(timeoutMs: number): number {
    const c = libc();
    for (let i = 0; i < this.#count; i++) this.#buf.writeInt16LE(0, i * POLLFD_LEN + 6);
    const n = c.poll(this.#buf, this.#count, timeoutMs);
    if (n < 0) {
      const errno = c.errno();
      if (errno === 4 /* EINTR */) return 0;
      throw syscallError('poll', errno);
    }
    return n;
  }

  /** The revents of entry `i` after the last wait. */
  revents(i: number): number {
    return this.#buf.readInt16LE(i * POLLFD_LEN + 6) & 0xffff;
  }

  setEvents(i: number, events: number): void {
    this.#buf.writeInt16LE(events, i * POLLFD_LEN + 4);
  }
}

export interface Readiness {
  readable: boolean;
  writable: boolean;
  /** POLLERR/POLLHUP or a uv_poll error status. */
  error: boolean;
}

export interface FdWatcher {
  /** Stops callbacks; idempotent. The fd itself is not closed. */
  close(): void;
  /** Lets the process exit while the watch is active. */
  unref(): void;
  ref(): void;
}

/**
 * Calls `onReady` on the main thread whenever `fd` is readable/writable as asked. The callback must drain
 * the fd (or close the watcher): uv_poll is level-triggered.
 */
export function watchFd(
  fd: number,
  interest: { readable?: boolean; writable?: boolean },
  onReady: (ready: Readiness) => void,
): FdWatcher {
  const ready: Readiness = { readable: false, writable: false, error: false };
  const opts = {
    readable: interest.readable ?? true,
    writable: interest.writable ?? false,
    disconnect: true,
  };
  // koffi's typings declare one parameter; the callback really receives (status, events).
  const cb = ((status: number, ev?: { readable: boolean; writable: boolean; disconnect: boolean }) => {
    ready.readable = ev?.readable ?? false;
    ready.writable = ev?.writable ?? false;
    ready.error = status !== 0 || (ev?.disconnect ?? false);
    onReady(ready);
  }) as unknown as (ev: { readable: boolean; writable: boolean; disconnect: boolean }) => void;
  const handle = koffi.node.poll(fd, opts, cb);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      handle.close();
    },
    unref: () => handle.unref(),
    ref: () => handle.ref(),
  };
}
