/**
 * Forwarders by method, indexed by the value stored in each session (`Forwarding`): the dispatch table of
 * IPVS `ip_vs_bind_xmit`. The socket proxy's method has no packet forwarder.
 */
import { Forwarding } from '../forwarding.js';
import { Drop } from '../pipeline/reasons.js';
import { drForwarder } from './dr.js';
import { fnatForwarder } from './fnat.js';
import type { Forwarder } from './forwarder.js';
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

export { fnatOnCreate } from './fnat.js';
export { FnatState, seqToClient, seqToServer } from './fnat-state.js';
export type { Forwarder, FwdContext } from './forwarder.js';
