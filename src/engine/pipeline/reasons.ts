/**
 * Why the pipeline dropped or passed a frame, and what else it counts. Drop reasons extend the wire
 * layer's `Reason` codes (a frame that fails a view's `check()` is dropped with that code), so one
 * Float64Array indexed by the code counts every drop without allocating.
 */
import { REASON_COUNT, REASON_NAMES } from '../../wire/reasons.js';

const PIPELINE_DROP_NAMES = [
  /** IPv4/IPv6 fragment: no ports to look up (IPVS relies on defragmentation first). */
  'fragment',
  /** TCP to a service without a session and not a SYN (IPVS would hand it to the local stack). */
  'not_syn_no_session',
  'no_dest',
  'table_full',
  'no_local_port',
  /** The session's real server was deleted (IPVS drops, or expires with expire_nodest_conn). */
  'dest_unavailable',
  'no_route',
  /** Next hop not resolved yet: a request went out (at most once per interval). */
  'no_neighbour',
  /** No address of the needed family on the interface to send a request or an ICMP error from. */
  'no_source_address',
  'ttl_exceeded',
  /** Too big for the path with DF (or IPv6): an ICMP error went back (rate permitting). */
  'frag_needed',
  /** Too big without DF: the pipeline does not fragment. */
  'too_big',
  /** An ICMP error matched a session but its quote is too short to translate. */
  'icmp_untranslatable',
  /** A CHECKSUM_PARTIAL frame whose csum_start is not its L4 header. */
  'bad_partial',
  /** GSO super-frame the output cannot carry (IP-in-IP, or a sink without vnet headers). */
  'gso_unsupported',
  /** The output ring had no free slot. */
  'tx_full',
  /** The result does not fit an output slot. */
  'frame_too_large',
  /** Real server and client of different families outside TUN mode. */
  'family_mismatch',
  /** IPv6 Routing header with segments left: the pseudo-header destination is not the one we rewrite. */
  'ipv6_routing_header',
  /** UDP with a PROXY header would exceed the MTU. */
  'proxy_no_room',
  /** The frame arrived on an interface index the pipeline has no sink for. */
  'no_interface',
  /** A forwarding method the pipeline does not implement (the socket proxy's). */
  'unsupported_forwarding',
  /** A request tslvs would answer came from a group MAC, a martian source or one of our own addresses. */
  'bad_source',
  /** An echo request over `pingRatePerSec`. */
  'echo_rate_limited',
] as const;

/** Drop reason codes: the wire `Reason` values, then the pipeline's own. */
export const Drop = Object.freeze({
  FRAGMENT: REASON_COUNT,
  NOT_SYN_NO_SESSION: REASON_COUNT + 1,
  NO_DEST: REASON_COUNT + 2,
  TABLE_FULL: REASON_COUNT + 3,
  NO_LOCAL_PORT: REASON_COUNT + 4,
  DEST_UNAVAILABLE: REASON_COUNT + 5,
  NO_ROUTE: REASON_COUNT + 6,
  NO_NEIGHBOUR: REASON_COUNT + 7,
  NO_SOURCE_ADDRESS: REASON_COUNT + 8,
  TTL_EXCEEDED: REASON_COUNT + 9,
  FRAG_NEEDED: REASON_COUNT + 10,
  TOO_BIG: REASON_COUNT + 11,
  ICMP_UNTRANSLATABLE: REASON_COUNT + 12,
  BAD_PARTIAL: REASON_COUNT + 13,
  GSO_UNSUPPORTED: REASON_COUNT + 14,
  TX_FULL: REASON_COUNT + 15,
  FRAME_TOO_LARGE: REASON_COUNT + 16,
  FAMILY_MISMATCH: REASON_COUNT + 17,
  IPV6_ROUTING_HEADER: REASON_COUNT + 18,
  PROXY_NO_ROOM: REASON_COUNT + 19,
  NO_INTERFACE: REASON_COUNT + 20,
  UNSUPPORTED_FORWARDING: REASON_COUNT + 21,
  BAD_SOURCE: REASON_COUNT + 22,
  ECHO_RATE_LIMITED: REASON_COUNT + 23,
});

export const DROP_COUNT: number = REASON_COUNT + PIPELINE_DROP_NAMES.length;
/** snake_case name per drop code (index 0, wire "ok", is never counted). */
export const DROP_NAMES: readonly string[] = Object.freeze([...REASON_NAMES, ...PIPELINE_DROP_NAMES]);

/** Why a frame was left to the kernel. */
export const Pass = Object.freeze({
  /** Neither ARP, IPv4 nor IPv6. */
  NOT_IP: 0,
  /** Destination MAC neither ours, broadcast nor multicast. */
  NOT_OUR_MAC: 1,
  /** VLAN other than the interface's. */
  VLAN: 2,
  /** IP traffic that is no service's and no session's. */
  NOT_OURS: 3,
  /** To a VIP, but no service on that protocol/port (IPVS hands it to the local stack too). */
  NO_SERVICE: 4,
  /** ARP not asking for one of our addresses (replies are learned, then passed). */
  ARP: 5,
  /** Neighbour discovery not for us, or learned from. */
  ND: 6,
  /** ICMP that is not an error about one of our sessions. */
  ICMP: 7,
});
export const PASS_NAMES = Object.freeze([
  'not_ip',
  'not_our_mac',
  'vlan',
  'not_ours',
  'no_service',
  'arp',
  'nd',
  'icmp',
] as const);

/** Event counters (not verdicts). */
export const Stat = Object.freeze({
  FORWARDED_IN: 0,
  FORWARDED_OUT: 1,
  ICMP_RELAYED: 2,
  ARP_REPLIES: 3,
  ND_ADVERTS: 4,
  ARP_REQUESTS: 5,
  ND_SOLICITS: 6,
  ICMP_ERRORS_SENT: 7,
  ICMP_RATE_LIMITED: 8,
  TOA_INSERTED: 9,
  TOA_NO_ROOM: 10,
  PROXY_HEADERS: 11,
  PROXY_SPLIT: 12,
  CONNS_CREATED: 13,
  CONNS_REUSED: 14,
  ONE_PACKET_REMOVED: 15,
  NEIGHBOURS_LEARNED: 16,
  SOLICIT_SKIPPED: 17,
  SYN_DATA_STRIPPED: 18,
  ECHO_REPLIES: 19,
});
export const STAT_NAMES = Object.freeze([
  'forwarded_in',
  'forwarded_out',
  'icmp_relayed',
  'arp_replies',
  'nd_adverts',
  'arp_requests_sent',
  'nd_solicits_sent',
  'icmp_errors_sent',
  'icmp_rate_limited',
  'toa_inserted',
  'toa_no_room',
  'proxy_headers',
  'proxy_split',
  'conns_created',
  'conns_reused',
  'one_packet_removed',
  'neighbours_learned',
  'solicit_skipped',
  'syn_data_stripped',
  'echo_replies',
] as const);
