/**
 * Building advertisements (pure): the VRRP message for one destination, and the IPv4 header a raw
 * IP_HDRINCL socket sends in front of it. The v3 checksum covers a pseudo-header with the real source and
 * destination (RFC 5798 §5.2.8), so a unicast advert is built once per peer, as keepalived does.
 */
import { type IpAddress, ipToBytes } from '../../engine/addr.js';
import { pseudoSumV4, pseudoSumV6Words } from '../../wire/checksum.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4Packet, Ipv4Repr } from '../../wire/ipv4.js';
import {
  VRRP_AUTH_LEN,
  VRRP_GROUP_V4,
  VRRP_GROUP_V6,
  VRRP_TTL,
  VrrpAuth,
  VrrpPacket,
  VrrpRepr,
} from '../../wire/vrrp.js';

/** RFC 5798 §5.1.1.1 / keepalived: IP precedence "internetwork control" (TOS 0xc0). */
export const VRRP_TOS = 0xc0;

export interface AdvertSpec {
  version: 2 | 3;
  vrid: number;
  advertIntervalMs: number;
  /** The virtual addresses, all of the instance's family. */
  addresses: readonly IpAddress[];
  /** v2 simple password (RFC 2338 type 1), at most 8 bytes; null = no authentication. */
  authPass: string | null;
}

/** The VRRP message with its checksum for `src` -> `dst`. */
export function buildAdvert(spec: AdvertSpec, priority: number, src: IpAddress, dst: IpAddress): Uint8Array {
  const family = src.family;
  const repr = new VrrpRepr({
    version: spec.version,
    vrid: spec.vrid,
    priority,
    // v2 carries seconds, v3 centiseconds; VrrpRepr takes centiseconds either way.
    advertIntervalCs: Math.round(spec.advertIntervalMs / 10),
    addresses: spec.addresses.map((a) => (family === 4 ? a.words[0] : a.words)),
    family,
    authType: spec.version === 2 && spec.authPass !== null ? VrrpAuth.PASSWORD : VrrpAuth.NONE,
    auth:
      spec.version === 2 && spec.authPass !== null
        ? VrrpRepr.passwordAuth(spec.authPass)
        : new Uint8Array(VRRP_AUTH_LEN),
  });
  const out = new Uint8Array(repr.bufferLen());
  const view = new VrrpPacket(out, 0, out.length, family);
  repr.emit(view, pseudoSum(spec.version, src, dst, out.length));
  return out;
}

/** 0 for v2 (the message alone, RFC 3768 §5.3.8); the IP pseudo-header sum for v3 (RFC 5798 §5.2.8). */
export function pseudoSum(version: 2 | 3, src: IpAddress, dst: IpAddress, len: number): number {
  if (version === 2) return 0;
  if (src.family === 4) return pseudoSumV4(src.words[0], dst.words[0], IpProto.VRRP, len);
  return pseudoSumV6Words(src.words, 0, dst.words, 0, IpProto.VRRP, len);
}

/**
 * IPv4 header + message for a raw IP_HDRINCL socket: TTL 255 (RFC 5798 §5.1.1.3), protocol 112, TOS
 * 0xc0, no DF (keepalived leaves frag_off 0). The kernel rewrites the checksum and the ID when 0.
 */
export function withIpv4Header(message: Uint8Array, src: IpAddress, dst: IpAddress): Uint8Array {
  const out = new Uint8Array(IPV4_HEADER_LEN + message.length);
  const ip = new Ipv4Repr({
    src: src.words[0],
    dst: dst.words[0],
    protocol: IpProto.VRRP,
    payloadLen: message.length,
    ttl: VRRP_TTL,
    tos: VRRP_TOS,
  });
  ip.emit(new Ipv4Packet(out, 0, out.length));
  out.set(message, IPV4_HEADER_LEN);
  return out;
}

/** Bytes of an address in network order (for sockaddr building). */
export function addressBytes(a: IpAddress): Uint8Array {
  const out = new Uint8Array(a.family === 4 ? 4 : 16);
  ipToBytes(a, out, 0);
  return out;
}

/** Where adverts go: every unicast peer, else the VRRP group of the family (RFC 5798 §5.1.1.2, §5.1.2.2). */
export function advertDestinations(unicastPeers: readonly IpAddress[], family: 4 | 6): readonly IpAddress[] {
  if (unicastPeers.length > 0) return unicastPeers;
  return [
    family === 4 ? { family: 4, words: [VRRP_GROUP_V4, 0, 0, 0] } : { family: 6, words: VRRP_GROUP_V6 },
  ];
}
