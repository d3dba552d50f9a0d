/**
 * Forwarders by method, indexed by the value stored in each session (`Forwarding`): the dispatch table of
 * IPVS `ip_vs_bind_xmit`. The socket proxy's method has no packet forwarder.
 */
import { Forwarding } from '../forwarding.js';
import { Drop } from '../pipeline/reasons.js';
import { drForwarder } from './dr.js';
import { fnatForwarder } from './fnat.js';
import type { Forwarder, FwdContext } from './forwarder.js';
import { natForwarder } from './nat.js';
import { tunForwarder } from './tun.js';

const unsupported: Forwarder = {
  toServer: () => Drop.UNSUPPORTED_FORWARDING,
  toClient: () => Drop.UNSUPPORTED_FORWARDING,
};

export const FORWARDERS: readonly Forwarder[] = Object.freeze(
  (() => {
    const t: Forwarder[] = [];
    t[Forwarding.DR] = drForwarder;
    t[Forwarding.NAT] = natForwarder;
    t[Forwarding.TUN] = tunForwarder;
    t[Forwarding.FNAT] = fnatForwarder;
    t[Forwarding.PROXY] = unsupported;
    for (let i = 0; i < 8; i++) t[i] ??= unsupported;
    return t;
  })(),
);

/**
 * `FORWARDERS[fwd].toServer(c, conn)` as a switch. The pipeline calls this for every packet: one call
 * site through the table has as many targets as methods in use and V8 never inlines it (polymorphic,
 * megamorphic past four); each call below has one target, which V8 can inline into the packet path.
 */
export function toServer(c: FwdContext, conn: number, fwd: number): number {
  switch (fwd) {
    case Forwarding.DR:
      return drForwarder.toServer(c, conn);
    case Forwarding.NAT:
      return natForwarder.toServer(c, conn);
    case Forwarding.TUN:
      return tunForwarder.toServer(c, conn);
    case Forwarding.FNAT:
      return fnatForwarder.toServer(c, conn);
    default:
      return Drop.UNSUPPORTED_FORWARDING;
  }
}

/** `FORWARDERS[fwd].toClient(c, conn)` as a switch (see toServer). */
export function toClient(c: FwdContext, conn: number, fwd: number): number {
  switch (fwd) {
    case Forwarding.NAT:
      return natForwarder.toClient(c, conn);
    case Forwarding.FNAT:
      return fnatForwarder.toClient(c, conn);
    case Forwarding.DR:
      return drForwarder.toClient(c, conn);
    case Forwarding.TUN:
      return tunForwarder.toClient(c, conn);
    default:
      return Drop.UNSUPPORTED_FORWARDING;
  }
}

export { fnatOnCreate } from './fnat.js';
export { FnatState, seqToClient, seqToServer } from './fnat-state.js';
export type { Forwarder, FwdContext } from './forwarder.js';
