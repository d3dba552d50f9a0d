/**
 * A small eBPF assembler: instructions as calls, jumps to named labels, `bytes()` the 8-byte encoding the
 * kernel loads (struct bpf_insn: opcode, dst:4 | src:4, off s16, imm s32, little-endian). Enough for the
 * XDP fast path without clang or libbpf on the machine. Encodings: Linux
 * Documentation/bpf/standardization/instruction-set.rst.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const FP: Reg = 10;

/** Access sizes. */
export const Size = Object.freeze({ W: 0x00, H: 0x08, B: 0x10, DW: 0x18 });
type SizeCode = (typeof Size)[keyof typeof Size];

const CLS_LD = 0x00;
const CLS_LDX = 0x01;
const CLS_ST = 0x02;
const CLS_STX = 0x03;
const CLS_JMP = 0x05;
const CLS_ALU64 = 0x07;
const MODE_IMM = 0x00;
const MODE_MEM = 0x60;
const MODE_ATOMIC = 0xc0;
const SRC_K = 0x00;
const SRC_X = 0x08;

const ALU = Object.freeze({
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
});
export type AluOp = keyof typeof ALU;

const JMP = Object.freeze({
  ja: 0x00,
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jlt: 0xa0,
  jle: 0xb0,
  /** Signed compares. */
  jsgt: 0x60,
  jsge: 0x70,
  jslt: 0xc0,
  jsle: 0xd0,
});
export type JmpOp = Exclude<keyof typeof JMP, 'ja'>;

const CALL = 0x80;
const EXIT = 0x90;
const END_TO_BE = 0xdc; // BPF_ALU | BPF_END | BPF_TO_BE
/** src field of a 64-bit immediate load that names a map by file descriptor. */
const PSEUDO_MAP_FD = 1;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** A jump whose offset is resolved from this label. */
  label?: string;
}

export class Program {
  readonly #insns: Insn[] = [];
  readonly #labels = new Map<string, number>();

  get length(): number {
    return this.#insns.length;
  }

  #emit(code: number, dst: number, src: number, off: number, imm: number, label?: string): this {
    this.#insns.push({ code, dst, src, off, imm, label });
    return this;
  }

  label(name: string): this {
    if (this.#labels.has(name)) throw asmError(`label ${name} defined twice`);
    this.#labels.set(name, this.#insns.length);
    return this;
  }

  /** dst = dst <op> imm (64-bit). */
  alu(op: AluOp, dst: Reg, imm: number): this {
    return this.#emit(CLS_ALU64 | ALU[op] | SRC_K, dst, 0, 0, imm | 0);
  }

  /** dst = dst <op> src (64-bit). */
  aluReg(op: AluOp, dst: Reg, src: Reg): this {
    return this.#emit(CLS_ALU64 | ALU[op] | SRC_X, dst, src, 0, 0);
  }

  mov(dst: Reg, imm: number): this {
    return this.alu('mov', dst, imm);
  }

  movReg(dst: Reg, src: Reg): this {
    return this.aluReg('mov', dst, src);
  }

  /** dst = the low `bits` (16, 32) of dst converted to big-endian (a no-op on big-endian hosts). */
  toBe(dst: Reg, bits: 16 | 32): this {
    return this.#emit(END_TO_BE, dst, 0, 0, bits);
  }

  /** dst = *(size *)(src + off). */
  load(size: SizeCode, dst: Reg, src: Reg, off: number): this {
    return this.#emit(CLS_LDX | MODE_MEM | size, dst, src, off, 0);
  }

  /** *(size *)(dst + off) = src. */
  store(size: SizeCode, dst: Reg, off: number, src: Reg): this {
    return this.#emit(CLS_STX | MODE_MEM | size, dst, src, off, 0);
  }

  /** *(size *)(dst + off) = imm. */
  storeImm(size: SizeCode, dst: Reg, off: number, imm: number): this {
    return this.#emit(CLS_ST | MODE_MEM | size, dst, 0, off, imm | 0);
  }

  /** Atomic *(size *)(dst + off) += src (size W or DW). */
  atomicAdd(size: typeof Size.W | typeof Size.DW, dst: Reg, off: number, src: Reg): this {
    return this.#emit(CLS_STX | MODE_ATOMIC | size, dst, src, off, 0 /* BPF_ADD */);
  }

  /** dst = the map with file descriptor `fd` (a two-slot instruction). */
  loadMapFd(dst: Reg, fd: number): this {
    this.#emit(CLS_LD | MODE_IMM | Size.DW, dst, PSEUDO_MAP_FD, 0, fd);
    return this.#emit(0, 0, 0, 0, 0);
  }

  /** if (dst <op> imm) goto label (64-bit compare; imm sign-extended). */
  jmp(op: JmpOp, dst: Reg, imm: number, label: string): this {
    return this.#emit(CLS_JMP | JMP[op] | SRC_K, dst, 0, 0, imm | 0, label);
  }

  /** if (dst <op> src) goto label. */
  jmpReg(op: JmpOp, dst: Reg, src: Reg, label: string): this {
    return this.#emit(CLS_JMP | JMP[op] | SRC_X, dst, src, 0, 0, label);
  }

  goto(label: string): this {
    return this.#emit(CLS_JMP | JMP.ja, 0, 0, 0, 0, label);
  }

  /** Calls helper number `id` (arguments in r1-r5, result in r0; r1-r5 are clobbered). */
  call(id: number): this {
    return this.#emit(CLS_JMP | CALL, 0, 0, 0, id);
  }

  exit(): this {
    return this.#emit(CLS_JMP | EXIT, 0, 0, 0, 0);
  }

  /** The encoded program; every label must resolve. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#insns.length * 8);
    const v = new DataView(out.buffer);
    this.#insns.forEach((ins, i) => {
      let off = ins.off;
      if (ins.label !== undefined) {
        const at = this.#labels.get(ins.label);
        if (at === undefined) throw asmError(`jump to undefined label ${ins.label}`);
        off = at - i - 1;
        if (off < -32768 || off > 32767) throw asmError(`jump to ${ins.label} is out of range`);
      }
      v.setUint8(i * 8, ins.code);
      v.setUint8(i * 8 + 1, (ins.src << 4) | ins.dst);
      v.setInt16(i * 8 + 2, off, true);
      v.setInt32(i * 8 + 4, ins.imm, true);
    });
    return out;
  }
}

function asmError(message: string): TslvsError {
  return new TslvsError(ErrorCodes.INTERNAL, `bpf assembler: ${message}`);
}
