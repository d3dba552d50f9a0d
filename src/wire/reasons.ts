/**
 * Why a frame was rejected. Every view `check()` returns one of these (OK = 0), so the packet pipeline
 * can count drops per reason in a typed array indexed by the code, without allocating:
 * `drops[ip.check()]++`. Codes are stable within a build only: export the names, not the numbers.
 */
export const Reason = Object.freeze({
  OK: 0,
  // Ethernet / 802.1Q
  TRUNCATED_ETH: 1,
  TRUNCATED_VLAN: 2,
  TOO_MANY_VLAN_TAGS: 3,
  // ARP
  TRUNCATED_ARP: 4,
  UNSUPPORTED_ARP_FORMAT: 5,
  BAD_ARP_OP: 6,
  // IPv4
  TRUNCATED_IPV4: 7,
  BAD_IP_VERSION: 8,
  BAD_IHL: 9,
  BAD_TOTAL_LENGTH: 10,
  BAD_IP_CHECKSUM: 11,
  BAD_IPV4_OPTION: 12,
  // IPv6
  TRUNCATED_IPV6: 13,
  BAD_IPV6_PAYLOAD_LENGTH: 14,
  TRUNCATED_IPV6_EXT: 15,
  IPV6_EXT_CHAIN_TOO_LONG: 16,
  BAD_IPV6_EXT_ORDER: 17,
  // TCP
  TRUNCATED_TCP: 18,
  BAD_TCP_DOFF: 19,
  BAD_TCP_OPTION: 20,
  BAD_TCP_CHECKSUM: 21,
  // UDP
  TRUNCATED_UDP: 22,
  BAD_UDP_LENGTH: 23,
  BAD_UDP_CHECKSUM: 24,
  // ICMP / ICMPv6
  TRUNCATED_ICMP: 25,
  TRUNCATED_ICMP_QUOTE: 26,
  BAD_ICMP_CHECKSUM: 27,
  // VRRP
  TRUNCATED_VRRP: 28,
  BAD_VRRP_VERSION: 29,
  BAD_VRRP_TYPE: 30,
  BAD_VRRP_LENGTH: 31,
  BAD_VRRP_AUTH: 32,
  BAD_VRRP_CHECKSUM: 33,
  // PROXY protocol
  BAD_PROXY_SIGNATURE: 34,
  BAD_PROXY_V1: 35,
  BAD_PROXY_V2: 36,
  BAD_PROXY_ADDRESS: 37,
  BAD_PROXY_TLV: 38,
});

export type Reason = (typeof Reason)[keyof typeof Reason];

/** Number of reason codes: size of a per-reason counter array. */
export const REASON_COUNT: number = Object.keys(Reason).length;

/** snake_case name of each code, indexed by code (`REASON_NAMES[Reason.BAD_IHL] === 'bad_ihl'`). */
export const REASON_NAMES: readonly string[] = Object.freeze(
  (() => {
    const names = new Array<string>(REASON_COUNT);
    for (const [key, code] of Object.entries(Reason)) names[code] = key.toLowerCase();
    return names;
  })(),
);

/** True when a `parse()` result is a rejection code rather than a Repr. */
export function isReason(x: unknown): x is Reason {
  return typeof x === 'number';
}
