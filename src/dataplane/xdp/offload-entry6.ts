/**
 * offload-entry.ts for IPv6 (DR, NAT, Full-NAT): the input and output frames must be equal but for the
 * MACs, the hop limit (kept or decremented), addresses, ports, a Full-NAT sequence shift (seq-shift.ts)
 * and the L4 checksum, which must be the one the program computes from the entry. No extension headers.
 */

import { applyDelta, putU32le, same, u16, wordDelta } from './entry-bytes.js';
import { DEC_TTL, REWRITE, VAL } from './fastpath-prog.js';
import { KEY6, VAL6 } from './fastpath-prog6.js';
import { NotOffloadable, putShift, SHIFT } from './offload-entry.js';
import { readSeqShift } from './seq-shift.js';

const IP6 = 14;
const L4 = IP6 + 40;

/** Fills `key` (KEY6.LEN) and `value` (VAL6.LEN); returns 0 or a NotOffloadable reason. */
export function offloadEntry6(
  inp: Uint8Array,
  io: number,
  inLen: number,
  out: Uint8Array,
  oo: number,
  outLen: number,
  ifindex: number,
  isn: number,
  key: Uint8Array,
  value: Uint8Array,
): number {
  if (inLen < L4 + 8 || outLen < L4 + 8) return NotOffloadable.NOT_IPV4;
  if (u16(inp, io + 12) !== 0x86dd || u16(out, oo + 12) !== 0x86dd) return NotOffloadable.NOT_IPV4;
  if (inp[io + IP6]! >>> 4 !== 6) return NotOffloadable.NOT_IPV4;
  const nh = inp[io + IP6 + 6]!;
  if (nh !== 6 && nh !== 17) return NotOffloadable.NOT_TCP_OR_UDP;
  const payload = u16(inp, io + IP6 + 4);
  if (payload < 8 || L4 + payload > inLen || L4 + payload > outLen) return NotOffloadable.LENGTH_CHANGED;
  // Version, traffic class, flow label, payload length, next header: unchanged.
  if (!same(inp, io + IP6, out, oo + IP6, 7)) return NotOffloadable.HEADER_CHANGED;
  const hopIn = inp[io + IP6 + 7]!;
  const hopOut = out[oo + IP6 + 7]!;
  if (hopOut !== hopIn && hopOut !== hopIn - 1) return NotOffloadable.TTL_CHANGED;
  const udp = nh === 17;
  let l4h = 8;
  const shift = SHIFT;
  shift.flag = 0;
  shift.words = 0;
  if (udp) {
    if (u16(inp, io + L4 + 4) !== payload || u16(out, oo + L4 + 4) !== payload)
      return NotOffloadable.LENGTH_CHANGED;
  } else {
    if (payload < 20) return NotOffloadable.LENGTH_CHANGED;
    l4h = (inp[io + L4 + 12]! >>> 4) << 2;
    if (l4h < 20 || l4h > payload) return NotOffloadable.LENGTH_CHANGED;
    if (inp[io + L4 + 13]! & 0x07) return NotOffloadable.TCP_CONTROL;
    if (
      !same(inp, io + L4 + 12, out, oo + L4 + 12, 4) ||
      !same(inp, io + L4 + 18, out, oo + L4 + 18, l4h - 18)
    )
      return NotOffloadable.HEADER_CHANGED;
    if (!readSeqShift(inp, io + L4, out, oo + L4, l4h, isn, shift)) return NotOffloadable.HEADER_CHANGED;
  }
  if (!same(inp, io + L4 + l4h, out, oo + L4 + l4h, payload - l4h)) return NotOffloadable.PAYLOAD_CHANGED;
  const addrDelta = wordDelta(inp, io + IP6 + 8, out, oo + IP6 + 8, 32);
  const portDelta = wordDelta(inp, io + L4, out, oo + L4, 4);
  const rewrite = addrDelta !== 0 || portDelta !== 0;
  const csumOff = udp ? 6 : 16;
  const l4In = u16(inp, io + L4 + csumOff);
  const want =
    !rewrite || (udp && l4In === 0) ? l4In : applyDelta(l4In, addrDelta + portDelta + shift.words, udp);
  if (shift.flag !== 0 && !rewrite) return NotOffloadable.HEADER_CHANGED;
  if (want !== u16(out, oo + L4 + csumOff)) return NotOffloadable.CHECKSUM_MISMATCH;
  key.fill(0);
  for (let i = 0; i < 32; i++) key[KEY6.SADDR + i] = inp[io + IP6 + 8 + i]!;
  for (let i = 0; i < 4; i++) key[KEY6.SPORT + i] = inp[io + L4 + i]!;
  key[KEY6.PROTO] = nh;
  value.fill(0);
  value[VAL.FLAGS] = (rewrite ? REWRITE : 0) | (hopOut !== hopIn ? DEC_TTL : 0) | shift.flag;
  putShift(value, shift, isn);
  putU32le(value, VAL.IFINDEX, ifindex);
  for (let i = 0; i < 12; i++) value[VAL.DMAC + i] = out[oo + i]!;
  for (let i = 0; i < 32; i++) value[VAL6.SADDR + i] = out[oo + IP6 + 8 + i]!;
  for (let i = 0; i < 4; i++) value[VAL6.SPORT + i] = out[oo + L4 + i]!;
  putU32le(value, VAL.L4_DELTA, addrDelta + portDelta);
  return 0;
}
