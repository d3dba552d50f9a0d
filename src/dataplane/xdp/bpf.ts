/**
 * The bpf(2) calls the XDP fast path needs, through koffi: maps (create, update, lookup, delete), program
 * load (the verifier's log in the error), test runs (BPF_PROG_TEST_RUN: the program on bytes, no
 * interface), and XDP attachment as a BPF link (detached when its descriptor closes, so a crashed worker
 * leaves no program behind). Attribute layouts: include/uapi/linux/bpf.h, union bpf_attr.
 *
 * Every call builds its attributes in one pinned scratch area, so pointers inside them are plain addresses
 * and nothing is allocated per call (map updates run on the worker's packet path).
 */
import koffi from 'koffi';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { libc, syscallError } from '../packet/libc.js';
import { PinnedBuffer } from '../packet/pinned.js';

export const MapType = Object.freeze({ HASH: 1, ARRAY: 2, PERCPU_ARRAY: 6, LRU_HASH: 9 });
/** BPF_F_NO_PREALLOC: a hash map's elements are allocated on update, not all at creation. */
export const MapFlags = Object.freeze({ NO_PREALLOC: 1 });
export const ProgType = Object.freeze({ XDP: 6 });
const ATTACH_XDP = 37;
export const XdpFlags = Object.freeze({ SKB_MODE: 2, DRV_MODE: 4 });
export const XdpAction = Object.freeze({ ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 });

const Cmd = Object.freeze({
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  PROG_LOAD: 5,
  PROG_TEST_RUN: 10,
  MAP_LOOKUP_BATCH: 24,
  LINK_CREATE: 28,
});
const ENOENT = 2;

/** Where a walk of a map by `mapLookupBatch` stands (the kernel's opaque token: a hash map's bucket). */
export interface BatchCursor {
  token: number;
  /** False before the first call and after the walk reached the end: the next call starts over. */
  started: boolean;
}

/** Scratch layout: attributes, then key/value, then the rest (program, log, test data). */
const ATTR = 0;
const ATTR_LEN = 160;
const KEY = 256;
const VALUE = 512;
const AREA = 4096;
const SCRATCH = 1 << 20;
/** mapLookupBatch's area: the in and out tokens, then the keys, then the values. */
const BATCH_TOKEN_IN = AREA;
const BATCH_TOKEN_OUT = AREA + 8;
const BATCH_KEYS = AREA + 64;
const BATCH_VALUES = AREA + 256 * 1024;

type SyscallFn = (nr: number, cmd: number, attr: number, size: number) => number;

export class Bpf {
  readonly #mem = new PinnedBuffer(SCRATCH);
  readonly #v = new DataView(this.#mem.buf.buffer, this.#mem.buf.byteOffset, SCRATCH);
  readonly #syscall: SyscallFn;
  readonly #nr: number;

  constructor() {
    if (process.platform !== 'linux') throw new TslvsError(ErrorCodes.ENVIRONMENT, 'bpf: needs Linux');
    const nr = process.arch === 'x64' ? 321 : process.arch === 'arm64' ? 280 : -1;
    if (nr < 0)
      throw new TslvsError(ErrorCodes.ENVIRONMENT, `bpf: no syscall number known for ${process.arch}`);
    this.#nr = nr;
    // Declared with fixed arguments (ABI-compatible with the variadic syscall() on x86-64 and arm64).
    this.#syscall = koffi.load('libc.so.6').func('long syscall(long, long, intptr_t, unsigned long)');
  }

  #attr(): DataView {
    this.#mem.buf.fill(0, ATTR, ATTR + ATTR_LEN);
    return this.#v;
  }

  #call(cmd: number): number {
    return this.#syscall(this.#nr, cmd, this.#mem.address + ATTR, ATTR_LEN);
  }

  #addr(off: number): bigint {
    return BigInt(this.#mem.address + off);
  }

  /** A map; `name` (up to 15 characters) shows in bpftool; `flags`: MapFlags. */
  mapCreate(
    type: number,
    keySize: number,
    valueSize: number,
    maxEntries: number,
    name: string,
    flags = 0,
  ): number {
    const a = this.#attr();
    a.setUint32(0, type, true);
    a.setUint32(4, keySize, true);
    a.setUint32(8, valueSize, true);
    a.setUint32(12, maxEntries, true);
    a.setUint32(16, flags, true);
    this.#mem.buf.write(name.slice(0, 15), ATTR + 28, 'latin1');
    const fd = this.#call(Cmd.MAP_CREATE);
    if (fd < 0) throw syscallError('bpf(BPF_MAP_CREATE)', libc().errno(), { map: name });
    return fd;
  }

  #elem(cmd: number, fd: number, key: Uint8Array, value: Uint8Array | null, flags: number): number {
    const b = this.#mem.buf;
    b.set(key, KEY);
    if (value && cmd === Cmd.MAP_UPDATE_ELEM) b.set(value, VALUE);
    const a = this.#attr();
    a.setUint32(0, fd, true);
    a.setBigUint64(8, this.#addr(KEY), true);
    // Attributes past the command's last field must be zero (the key, for a delete).
    if (cmd !== Cmd.MAP_DELETE_ELEM) a.setBigUint64(16, this.#addr(VALUE), true);
    a.setBigUint64(24, BigInt(flags), true);
    return this.#call(cmd);
  }

  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags = 0): void {
    if (this.#elem(Cmd.MAP_UPDATE_ELEM, fd, key, value, flags) < 0)
      throw syscallError('bpf(BPF_MAP_UPDATE_ELEM)', libc().errno(), { mapFd: fd });
  }

  /** Copies the value of `key` into `out`; false when there is none. */
  mapLookup(fd: number, key: Uint8Array, out: Uint8Array): boolean {
    if (this.#elem(Cmd.MAP_LOOKUP_ELEM, fd, key, null, 0) < 0) {
      const e = libc().errno();
      if (e === ENOENT) return false;
      throw syscallError('bpf(BPF_MAP_LOOKUP_ELEM)', e, { mapFd: fd });
    }
    this.#mem.buf.copy(out, 0, VALUE, VALUE + out.length);
    return true;
  }

  /**
   * Reads up to `max` elements of a hash map from where `cursor` stopped (BPF_MAP_LOOKUP_BATCH, Linux 5.6):
   * one system call where `max` lookups would take `max`. Returns how many it read; element i's value is
   * then at `view` offset `batchValueAt(i, valueSize)` until the next call. At the end of the map the
   * cursor starts over.
   */
  mapLookupBatch(fd: number, keySize: number, valueSize: number, max: number, cursor: BatchCursor): number {
    if (BATCH_VALUES + max * valueSize > SCRATCH || max * keySize > BATCH_VALUES - BATCH_KEYS)
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `bpf batch lookup: ${max} elements do not fit`);
    const v = this.#v;
    v.setUint32(BATCH_TOKEN_IN, cursor.token, true);
    const a = this.#attr();
    if (cursor.started) a.setBigUint64(0, this.#addr(BATCH_TOKEN_IN), true);
    a.setBigUint64(8, this.#addr(BATCH_TOKEN_OUT), true);
    a.setBigUint64(16, this.#addr(BATCH_KEYS), true);
    a.setBigUint64(24, this.#addr(BATCH_VALUES), true);
    a.setUint32(32, max, true);
    a.setUint32(36, fd, true);
    const r = this.#call(Cmd.MAP_LOOKUP_BATCH);
    const count = v.getUint32(ATTR + 32, true);
    if (r < 0) {
      const e = libc().errno();
      if (e !== ENOENT) throw syscallError('bpf(BPF_MAP_LOOKUP_BATCH)', e, { mapFd: fd });
      cursor.started = false; // the end: what was read is still in `count`
      cursor.token = 0;
      return count;
    }
    cursor.started = true;
    cursor.token = v.getUint32(BATCH_TOKEN_OUT, true);
    return count;
  }

  /** Offset in `view` of element `i`'s value after `mapLookupBatch`. */
  batchValueAt(i: number, valueSize: number): number {
    return BATCH_VALUES + i * valueSize;
  }

  /** The scratch area, read-only for callers: values `mapLookupBatch` left there. */
  get view(): DataView {
    return this.#v;
  }

  /** False when there was no such key. */
  mapDelete(fd: number, key: Uint8Array): boolean {
    if (this.#elem(Cmd.MAP_DELETE_ELEM, fd, key, null, 0) < 0) {
      const e = libc().errno();
      if (e === ENOENT) return false;
      throw syscallError('bpf(BPF_MAP_DELETE_ELEM)', e, { mapFd: fd });
    }
    return true;
  }

  /** Loads a program; a verifier rejection throws with the verifier's log. */
  progLoad(type: number, insns: Uint8Array, name: string): number {
    const b = this.#mem.buf;
    const license = AREA;
    b.write('GPL\0', license, 'latin1');
    const code = AREA + 64;
    const logOff = code + insns.length;
    const logLen = Math.min(SCRATCH - logOff, 256 * 1024);
    b.set(insns, code);
    b[logOff] = 0;
    const a = this.#attr();
    a.setUint32(0, type, true);
    a.setUint32(4, insns.length / 8, true);
    a.setBigUint64(8, this.#addr(code), true);
    a.setBigUint64(16, this.#addr(license), true);
    a.setUint32(24, 1, true);
    a.setUint32(28, logLen, true);
    a.setBigUint64(32, this.#addr(logOff), true);
    b.write(name.slice(0, 15), ATTR + 48, 'latin1');
    if (type === ProgType.XDP) a.setUint32(68, ATTACH_XDP, true);
    const fd = this.#call(Cmd.PROG_LOAD);
    if (fd >= 0) return fd;
    const errno = libc().errno();
    const end = b.indexOf(0, logOff);
    const log = b.toString('latin1', logOff, end < 0 ? logOff + logLen : end).trim();
    const err = syscallError('bpf(BPF_PROG_LOAD)', errno, { program: name });
    if (log) err.message += `; verifier: ${log.split('\n').slice(-12).join(' | ')}`;
    throw err;
  }

  /**
   * Runs an XDP program once over `input` (BPF_PROG_TEST_RUN) as if received on `ingressIfindex` (0: the
   * loopback device); returns its action and the frame as the program left it (a copy).
   */
  testRun(progFd: number, input: Uint8Array, ingressIfindex = 0): { action: number; output: Uint8Array } {
    const b = this.#mem.buf;
    const inOff = AREA;
    const outOff = AREA + 16384;
    const room = 16384;
    if (input.length > room - 256)
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'bpf test run: frame too long');
    b.set(input, inOff);
    const a = this.#attr();
    a.setUint32(0, progFd, true);
    a.setUint32(8, input.length, true);
    a.setUint32(12, room, true);
    a.setBigUint64(16, this.#addr(inOff), true);
    a.setBigUint64(24, this.#addr(outOff), true);
    a.setUint32(32, 1, true);
    if (ingressIfindex > 0) {
      // struct xdp_md: data 0, data_end = the input's length, ingress_ifindex.
      const ctx = outOff + room;
      b.fill(0, ctx, ctx + 24);
      b.writeUInt32LE(input.length, ctx + 4);
      b.writeUInt32LE(ingressIfindex, ctx + 12);
      a.setUint32(40, 24, true);
      a.setBigUint64(48, this.#addr(ctx), true);
    }
    if (this.#call(Cmd.PROG_TEST_RUN) < 0) throw syscallError('bpf(BPF_PROG_TEST_RUN)', libc().errno());
    const action = a.getUint32(ATTR + 4, true);
    const outLen = a.getUint32(ATTR + 12, true);
    return { action, output: Uint8Array.from(b.subarray(outOff, outOff + outLen)) };
  }

  /** Attaches an XDP program to an interface as a link (XdpFlags: native or generic); returns the link fd. */
  attachXdp(progFd: number, ifindex: number, flags: number, ifname: string): number {
    const a = this.#attr();
    a.setUint32(0, progFd, true);
    a.setUint32(4, ifindex, true);
    a.setUint32(8, ATTACH_XDP, true);
    a.setUint32(12, flags, true);
    const fd = this.#call(Cmd.LINK_CREATE);
    if (fd < 0) throw syscallError('bpf(BPF_LINK_CREATE, XDP)', libc().errno(), { ifname });
    return fd;
  }

  close(fd: number): void {
    if (fd >= 0) libc().close(fd);
  }

  /** Releases the scratch memory; the object must not be used afterwards. */
  dispose(): void {
    this.#mem.free();
  }
}
