/**
 * The entry side of Full-NAT sequence translation (fastpath-seq.ts is the program side): how the pipeline
 * changed the sequence and acknowledgment numbers of one TCP segment, if it did, and whether the program
 * can repeat that for the session's later segments.
 */

import { u32, wordDelta } from './entry-bytes.js';
import { ACK_OUT, SEQ_IN } from './fastpath-prog.js';

/** The shift read off a segment: SEQ_IN, ACK_OUT or 0 (none), N, and the sampled field's checksum terms. */
export class SeqShift {
  flag = 0;
  delta = 0;
  words = 0;
}

/**
 * TCP headers at `ti` (input) and `to` (output), `l4h` bytes long; `isn`: the session's first client data
 * sequence number (0 without a PROXY header). Fills `s`; false when the numbers changed in a way the
 * program does not reproduce (both changed, options other than timestamps, no ISN, a sample at or before
 * the threshold).
 */
export function readSeqShift(
  inp: Uint8Array,
  ti: number,
  out: Uint8Array,
  to: number,
  l4h: number,
  isn: number,
  s: SeqShift,
): boolean {
  s.flag = 0;
  s.delta = 0;
  s.words = 0;
  const seqIn = u32(inp, ti + 4);
  const seqOut = u32(out, to + 4);
  const ackIn = u32(inp, ti + 8);
  const ackOut = u32(out, to + 8);
  if (seqIn === seqOut && ackIn === ackOut) return true;
  const plainOptions = l4h === 20 || (l4h === 32 && u32(inp, ti + 20) === 0x0101080a);
  if (isn === 0 || !plainOptions) return false;
  if (seqIn !== seqOut && ackIn === ackOut) {
    if (((seqIn - isn) | 0) <= 0) return false;
    s.flag = SEQ_IN;
    s.delta = (seqOut - seqIn) >>> 0;
    s.words = wordDelta(inp, ti + 4, out, to + 4, 4);
    return true;
  }
  if (ackIn !== ackOut && seqIn === seqOut) {
    s.delta = (ackIn - ackOut) >>> 0;
    if (((ackIn - isn - s.delta) | 0) < 0) return false;
    s.flag = ACK_OUT;
    s.words = wordDelta(inp, ti + 8, out, to + 8, 4);
    return true;
  }
  return false;
}
