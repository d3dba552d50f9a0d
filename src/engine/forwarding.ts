/**
 * LVS forwarding methods. The method is chosen once, when a connection is created (IPVS `ip_vs_bind_xmit`),
 * and stored in the connection entry; `proxy` is the socket data plane, where the kernel does the work.
 */
export const Forwarding = Object.freeze({ DR: 0, NAT: 1, TUN: 2, FNAT: 3, PROXY: 4 });
export type ForwardingMethod = (typeof Forwarding)[keyof typeof Forwarding];
export const FORWARDING_NAMES = Object.freeze(['dr', 'nat', 'tun', 'fnat', 'proxy'] as const);
export type ForwardingName = (typeof FORWARDING_NAMES)[number];

export function forwardingFromName(name: ForwardingName): ForwardingMethod {
  return FORWARDING_NAMES.indexOf(name) as ForwardingMethod;
}

/** NAT and FNAT see both directions; DR and TUN replies bypass the director (IPVS NOOUTPUT). */
export function seesReplies(m: number): boolean {
  return m === Forwarding.NAT || m === Forwarding.FNAT || m === Forwarding.PROXY;
}

/** ipvsadm's column text: Route, Masq, Tunnel; FullNat as DPVS's ipvsadm prints it. */
export const FORWARDING_IPVSADM = Object.freeze(['Route', 'Masq', 'Tunnel', 'FullNat', 'Local']);
