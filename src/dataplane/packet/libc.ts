/**
 * The libc calls packet I/O needs, declared through koffi. koffi function objects belong to the thread that
 * declared them, so every worker_thread calls `libc()` itself; the module-level cache is per thread because
 * each worker evaluates its own copy of this module.
 *
 * Declarations follow the reference notes (linux-packet.md §3): `mmap` returns `intptr_t` so failure is the
 * Number -1 (a `void *` return would be the BigInt 0xFFFF_FFFF_FFFF_FFFF); variadic `open`/`ioctl`/`fcntl`
 * are declared with fixed integer/pointer arguments, which is ABI-compatible on x86-64 for these calls.
 */
import koffi from 'koffi';
import { ErrorCodes, TslvsError } from '../../errors.js';

/** A pointer argument: a buffer (valid for the duration of the call), an address, or NULL. */
export type Ptr = Uint8Array | number | bigint | null;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, addrLen: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  /** `len` is in/out: pass `[capacity]`, read the stored length back from `len[0]`. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number[]): number;
  mmap(addr: number | null, len: number, prot: number, flags: number, fd: number, offset: number): number;
  munmap(addr: number, len: number): number;
  send(fd: number, buf: Ptr, len: number, flags: number): number;
  sendto(fd: number, buf: Ptr, len: number, flags: number, addr: Uint8Array | null, addrLen: number): number;
  recv(fd: number, buf: Ptr, len: number, flags: number): number;
  recvfrom(
    fd: number,
    buf: Ptr,
    len: number,
    flags: number,
    addr: Uint8Array | null,
    addrLen: number[] | null,
  ): number;
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  ioctl(fd: number, request: number, arg: Ptr): number;
  close(fd: number): number;
  open(path: string, flags: number, mode: number): number;
  read(fd: number, buf: Ptr, len: number): number;
  write(fd: number, buf: Ptr, len: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  setns(fd: number, nstype: number): number;
  eventfd(initval: number, flags: number): number;
  sched_setaffinity(pid: number, size: number, mask: Uint8Array): number;
  /** Kernel thread id of the calling thread. */
  gettid(): number;
  /** `param` is a 4-byte `struct sched_param` (the priority). pid 0 = the calling thread. */
  sched_setscheduler(pid: number, policy: number, param: Uint8Array): number;
  /** which 0 = PRIO_PROCESS; on Linux a thread id selects one thread. */
  setpriority(which: number, who: number, prio: number): number;
  strerror(errnum: number): string;
  /** errno of the last foreign call made on this thread. */
  errno(): number;
  /** Zero-copy view of foreign memory (e.g. an mmap'd ring). */
  view(address: number, len: number): ArrayBuffer;
}

let cached: Libc | null = null;

/** Loads libc and declares the functions once for the calling thread. */
export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  const f = (decl: string) => lib.func(decl);
  cached = {
    socket: f('int socket(int, int, int)'),
    bind: f('int bind(int, const void *, uint32_t)'),
    setsockopt: f('int setsockopt(int, int, int, const void *, uint32_t)'),
    getsockopt: f('int getsockopt(int, int, int, void *, _Inout_ uint32_t *)'),
    mmap: f('intptr_t mmap(void *, size_t, int, int, int, intptr_t)'),
    munmap: f('int munmap(void *, size_t)'),
    send: f('intptr_t send(int, const void *, size_t, int)'),
    sendto: f('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    recv: f('intptr_t recv(int, void *, size_t, int)'),
    recvfrom: f('intptr_t recvfrom(int, void *, size_t, int, void *, _Inout_ uint32_t *)'),
    poll: f('int poll(void *, unsigned long, int)'),
    ioctl: f('int ioctl(int, unsigned long, void *)'),
    close: f('int close(int)'),
    open: f('int open(const char *, int, int)'),
    read: f('intptr_t read(int, void *, size_t)'),
    write: f('intptr_t write(int, const void *, size_t)'),
    fcntl: f('int fcntl(int, int, int)'),
    setns: f('int setns(int, int)'),
    eventfd: f('int eventfd(unsigned int, int)'),
    sched_setaffinity: f('int sched_setaffinity(int, size_t, const void *)'),
    gettid: f('int gettid()'),
    sched_setscheduler: f('int sched_setscheduler(int, int, const void *)'),
    setpriority: f('int setpriority(int, unsigned int, int)'),
    strerror: f('const char *strerror(int)'),
    errno: () => koffi.errno(),
    view: (address, len) => koffi.view(address, len),
  };
  return cached;
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(koffi.os.errno)) {
  // Aliases (EWOULDBLOCK, EDEADLOCK...) sort after their canonical names; keep the first.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno value (`ENODEV`), or `errno <n>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const Errno = Object.freeze({
  EPERM: koffi.os.errno.EPERM ?? 1,
  ENOENT: koffi.os.errno.ENOENT ?? 2,
  EINTR: koffi.os.errno.EINTR ?? 4,
  EAGAIN: koffi.os.errno.EAGAIN ?? 11,
  ENOBUFS: koffi.os.errno.ENOBUFS ?? 105,
  ENODEV: koffi.os.errno.ENODEV ?? 19,
  ENXIO: koffi.os.errno.ENXIO ?? 6,
  ENETDOWN: koffi.os.errno.ENETDOWN ?? 100,
  EMSGSIZE: koffi.os.errno.EMSGSIZE ?? 90,
  ENOPROTOOPT: koffi.os.errno.ENOPROTOOPT ?? 92,
  EINVAL: koffi.os.errno.EINVAL ?? 22,
});

/**
 * A `TSLVS_ERR_SYSCALL` error naming the call, the errno and the context it happened in
 * (`setsockopt(PACKET_RX_RING) failed on veth0: EINVAL (Invalid argument)`).
 */
export function syscallError(call: string, errno: number, context: Record<string, unknown> = {}): TslvsError {
  const name = errnoName(errno);
  let text = '';
  try {
    text = libc().strerror(errno);
  } catch {
    text = '';
  }
  const where = describeContext(context);
  return new TslvsError(ErrorCodes.SYSCALL, `${call} failed${where}: ${name}${text ? ` (${text})` : ''}`, {
    call,
    errno,
    errnoName: name,
    ...context,
  });
}

/** Throws a syscall error when `ret` is negative (reading errno immediately), otherwise returns `ret`. */
export function check(ret: number, call: string, context?: Record<string, unknown>): number {
  if (ret < 0) throw syscallError(call, libc().errno(), context);
  return ret;
}

function describeContext(context: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof context.ifname === 'string') parts.push(`on ${context.ifname}`);
  if (typeof context.path === 'string') parts.push(`for ${context.path}`);
  if (typeof context.netns === 'string') parts.push(`in netns ${context.netns}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}
