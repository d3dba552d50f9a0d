/**
 * Memory whose address never moves (an anonymous mmap viewed through koffi), so a packet at any offset can
 * be handed to read()/write()/send() as `address + offset` without allocating a subarray per packet.
 */
import { PROT_READ, PROT_WRITE } from './constants.js';
import { libc, syscallError } from './libc.js';

const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;

export class PinnedBuffer {
  readonly buf: Buffer;
  readonly address: number;
  readonly length: number;
  #freed = false;

  constructor(length: number) {
    const c = libc();
    const addr = c.mmap(null, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (addr === -1) throw syscallError('mmap(anonymous)', c.errno(), { bytes: length });
    this.address = addr;
    this.length = length;
    this.buf = Buffer.from(c.view(addr, length));
  }

  /** Unmaps the memory, once; `buf` must not be used afterwards. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    libc().munmap(this.address, this.length);
  }
}
