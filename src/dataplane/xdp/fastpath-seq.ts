/**
 * Full-NAT sequence translation in the fast path (fnat-state.ts has the arithmetic the pipeline does).
 * A PROXY header of N bytes in front of the client's first byte shifts the client's byte stream by N:
 *   client -> RS  sequence numbers after the first data byte (the ISN + 1, `isn` below) become seq + N;
 *                 a segment starting at `isn` (the first one again: it must carry the header) or before is
 *                 left to the pipeline;
 *   RS -> client  acknowledgments at or past isn + N become ack - N; earlier ones (the RS acknowledging part
 *                 of the header) are left to the pipeline.
 * Only segments without options or with exactly NOP, NOP, timestamps are translated here: SACK blocks
 * (edges to shift) and anything unusual go to the pipeline. The 32-bit field's checksum change is computed
 * per packet into r5, which the L4 checksum update adds to the entry's delta.
 */
import { type Program, Size } from './asm.js';
import { ACK_OUT, DATA, needBytes, SEQ_IN, VAL, VALUE } from './fastpath-prog.js';

/** NOP, NOP, kind 8, length 10: the first option word, as a little-endian load reads it. */
const NOP_NOP_TS_LE = 0x0a080101;

/**
 * Emits the translation for a TCP header at `l4` (`tag` keeps its labels apart from another copy's);
 * leaves in r5 the checksum delta (0 without one).
 */
export function shiftSequence(p: Program, l4: number, tag: string): void {
  p.mov(5, 0);
  p.load(Size.B, 2, VALUE, VAL.FLAGS)
    .alu('and', 2, SEQ_IN | ACK_OUT)
    .jmp('jeq', 2, 0, `seq_done${tag}`);
  p.load(Size.B, 2, DATA, l4 + 12)
    .alu('rsh', 2, 4)
    .jmp('jeq', 2, 5, `seq_options_ok${tag}`);
  p.jmp('jne', 2, 8, 'pass');
  needBytes(p, l4 + 24);
  p.load(Size.W, 2, DATA, l4 + 20).jmp('jne', 2, NOP_NOP_TS_LE, 'pass');
  p.label(`seq_options_ok${tag}`);
  p.load(Size.B, 2, VALUE, VAL.FLAGS).alu('and', 2, SEQ_IN).jmp('jeq', 2, 0, `seq_ack${tag}`);
  field(p, l4 + 4, true);
  p.goto(`seq_done${tag}`);
  p.label(`seq_ack${tag}`);
  field(p, l4 + 8, false);
  p.label(`seq_done${tag}`);
}

/** Sequence (`forward`: + delta past the ISN) or acknowledgment (- delta at or past ISN + delta) at `off`. */
function field(p: Program, off: number, forward: boolean): void {
  p.load(Size.W, 1, DATA, off).toBe(1, 32); // the field, host order
  p.load(Size.W, 2, VALUE, VAL.ISN);
  p.load(Size.W, 3, VALUE, VAL.SEQ_DELTA);
  if (!forward) p.aluReg('add', 2, 3);
  // Signed 32-bit distance from the threshold (sequence space wraps).
  p.movReg(4, 1).aluReg('sub', 4, 2).alu('lsh', 4, 32).alu('arsh', 4, 32);
  p.jmp(forward ? 'jsle' : 'jslt', 4, 0, 'pass');
  p.movReg(2, 1)
    .aluReg(forward ? 'add' : 'sub', 2, 3)
    .alu('lsh', 2, 32)
    .alu('rsh', 2, 32);
  // RFC 1624: ~old + new, per 16-bit half.
  p.movReg(4, 1).alu('rsh', 4, 16).alu('xor', 4, 0xffff).aluReg('add', 5, 4);
  p.movReg(4, 1).alu('and', 4, 0xffff).alu('xor', 4, 0xffff).aluReg('add', 5, 4);
  p.movReg(4, 2).alu('rsh', 4, 16).aluReg('add', 5, 4);
  p.movReg(4, 2).alu('and', 4, 0xffff).aluReg('add', 5, 4);
  p.toBe(2, 32).store(Size.W, DATA, off, 2);
}
