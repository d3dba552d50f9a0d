/**
 * Load arithmetic shared by the least-connection family (lc, wlc, sed, nq, lblc, lblcr, twos), kept in
 * the kernel's integer semantics so picks match IPVS for the same counters.
 */
import { DestFlag, type DestTable } from '../dest-table.js';

/**
 * `ip_vs_dest_conn_overhead`: (activeconns << 8) + inactconns as a C `int`, wrapping like the kernel does
 * past 2^31 (`DestTable.overhead()` does not wrap the sum).
 */
export function connOverhead(dests: DestTable, id: number): number {
  return ((dests.activeConns[id]! << 8) + dests.inactConns[id]!) | 0;
}

/**
 * `(s64)a * b > (s64)c * d` for int32 operands, exactly. Products reach 2^62, past the 2^53 where doubles
 * stop being exact, but rounding is monotonic: differing doubles already order the exact products, and
 * equal doubles mean the exact products differ by at most one ulp (<= 2^10), which the low 32 bits of
 * each product (`Math.imul`) recover exactly.
 */
export function mulGreater(a: number, b: number, c: number, d: number): boolean {
  const p = a * b;
  const q = c * d;
  if (p !== q) return p > q;
  return ((Math.imul(a, b) - Math.imul(c, d)) | 0) > 0;
}

/**
 * Weighted least-connection over the service list (`ip_vs_wlc_schedule`, also `__ip_vs_lblc_schedule`):
 * the first non-overloaded dest with weight > 0 starts as `least`; a later non-overloaded dest replaces it
 * when loh * w_dest > doh * w_least. Ties keep the earlier dest; weight 0 can never win. -1 if none.
 */
export function wlcPick(dests: DestTable, list: readonly number[]): number {
  // Columns read once per call (the table may have grown since the last one); loops stay on typed arrays.
  const n = list.length;
  const weight = dests.weight;
  const flags = dests.flags;
  const active = dests.activeConns;
  const inact = dests.inactConns;
  let i = 0;
  let least = -1;
  for (; i < n; i++) {
    const d = list[i]!;
    if ((flags[d]! & DestFlag.OVERLOAD) === 0 && weight[d]! > 0) {
      least = d;
      break;
    }
  }
  if (least < 0) return -1;
  let loh = ((active[least]! << 8) + inact[least]!) | 0;
  let lw = weight[least]!;
  for (i++; i < n; i++) {
    const d = list[i]!;
    if ((flags[d]! & DestFlag.OVERLOAD) !== 0) continue;
    const doh = ((active[d]! << 8) + inact[d]!) | 0;
    const dw = weight[d]!;
    if (mulGreater(loh, dw, doh, lw)) {
      least = d;
      loh = doh;
      lw = dw;
    }
  }
  return least;
}

/**
 * lblc/lblcr `is_overloaded`: the dest has more active connections than its weight while some dest of the
 * service has fewer than half its weight (`2 * active < weight`). Unrelated to the OVERLOAD flag.
 */
export function isLocalityOverloaded(dests: DestTable, list: readonly number[], id: number): boolean {
  if (dests.activeConns[id]! <= dests.weight[id]!) return false;
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    if (dests.activeConns[d]! * 2 < dests.weight[d]!) return true;
  }
  return false;
}
