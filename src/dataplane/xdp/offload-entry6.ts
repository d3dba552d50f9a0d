/**
 * offload-entry.ts for IPv6 (DR, NAT, Full-NAT): the input and output frames must be equal but for the
 * MACs, the hop limit (kept or decremented), addresses, ports, a Full-NAT sequence shift (seq-shift.ts)
 * and the L4 checksum, which must be the one the program computes from the entry. No extension headers.
 */

import { putU32le, same, u16, wordDelta } from './entry-bytes.js';
import { DEC_TTL, REWRITE, VAL } from './fastpath-prog.js';
import { KEY6, VAL6 } from './fastpath-prog6.js';
import { compareL4, l4ChecksumOk, NotOffloadable, putMtu, putShift, SHIFT } from './offload-entry.js';

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
  mtu: number,
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
  const l4r = compareL4(inp, io + L4, out, oo + L4, payload, udp, isn);
  if (l4r !== 0) return l4r;
  const shift = SHIFT;
  const addrDelta = wordDelta(inp, io + IP6 + 8, out, oo + IP6 + 8, 32);
  const portDelta = wordDelta(inp, io + L4, out, oo + L4, 4);
  const rewrite = addrDelta !== 0 || portDelta !== 0;
  if (shift.flag !== 0 && !rewrite) return NotOffloadable.HEADER_CHANGED;
  if (!l4ChecksumOk(inp, io + L4, out, oo + L4, udp, rewrite, addrDelta + portDelta + shift.words))
    return NotOffloadable.CHECKSUM_MISMATCH;
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
  putMtu(value, VAL6.MTU, rewrite, mtu);
  return 0;
}
