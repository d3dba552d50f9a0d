/**
 * Receive-side checks of an advertisement against the instance (pure), in keepalived's order
 * (vrrp_check_packet) with RFC 5798 §7.1 / RFC 3768 §7.1 as the reference. Every rejection has a named
 * reason so the driver counts it; an address-list mismatch is counted but accepted, as keepalived does
 * (RFC 5798 §7.1: "MAY" verify the list; a misconfigured peer should still be heard, not fought).
 */
import { type IpAddress, ipEquals, ipFromBytes } from '../../engine/addr.js';
import { IpProto, Ipv4Packet } from '../../wire/ipv4.js';
import { Reason } from '../../wire/reasons.js';
import { VRRP_TTL, VrrpAuth, VrrpPacket, VrrpRepr } from '../../wire/vrrp.js';
import { type AdvertSpec, pseudoSum } from './advert.js';
import type { AdvertIn } from './types.js';

/** One received VRRP message with what the IP layer said about it. */
export interface RxPacket {
  src: IpAddress;
  dst: IpAddress;
  /** IPv4 TTL / IPv6 hop limit; -1 when the socket cannot tell (the kernel filtered it). */
  ttl: number;
  /** The VRRP message (IP header removed). */
  message: Uint8Array;
}

export const DROP_REASONS = [
  /** The IP header is malformed, or not protocol 112. */
  'ip-invalid',
  /** Our own advert, looped back. */
  'own',
  /** TTL/hop limit not 255 on a multicast advert (RFC 5798 §7.1; keepalived skips it for unicast). */
  'ttl',
  /** Shorter or longer than the header and address count imply. */
  'length',
  'version',
  'type',
  /** Another virtual router on the same link: not an error, just not ours. */
  'other-vrid',
  /** v2: invalid or different authentication type. */
  'auth-type',
  /** v2: wrong password. */
  'auth',
  /** v2: Adver Int differs from ours (RFC 3768 §7.1 MUST discard); v3: Max Adver Int of 0. */
  'interval',
  'checksum',
  /** Multicast received by a unicast instance, or unicast by a multicast one (keepalived). */
  'cast-mismatch',
  /** Unicast from an address that is not one of unicastPeers. */
  'unknown-peer',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ReceiveSpec extends AdvertSpec {
  /** Our advert source: packets from it are our own. */
  source: IpAddress;
  /** Empty = multicast instance. */
  unicastPeers: readonly IpAddress[];
}

export type RxVerdict =
  | {
      ok: true;
      advert: AdvertIn;
      /** The peer's address list differs from ours (count or content): counted, logged, accepted. */
      addressMismatch: 'count' | 'list' | null;
      /** v3: the master's interval differs from ours; the backup learns it (RFC 5798 §6.4.2). */
      intervalMismatch: boolean;
    }
  | { ok: false; drop: DropReason };

const view = new VrrpPacket();

function drop(reason: DropReason): RxVerdict {
  return { ok: false, drop: reason };
}

function isMulticast(a: IpAddress): boolean {
  return a.family === 4 ? a.words[0] >>> 28 === 0xe : a.words[0] >>> 24 === 0xff;
}

export function checkAdvert(pkt: RxPacket, spec: ReceiveSpec): RxVerdict {
  if (ipEquals(pkt.src, spec.source)) return drop('own');
  const family = pkt.src.family;
  const v = view.reset(pkt.message, 0, pkt.message.length, family);
  const structural = v.check();
  if (structural === Reason.TRUNCATED_VRRP || structural === Reason.BAD_VRRP_LENGTH) return drop('length');
  if (structural === Reason.BAD_VRRP_VERSION) return drop('version');
  const unicast = spec.unicastPeers.length > 0;
  if (!unicast && pkt.ttl !== -1 && pkt.ttl !== VRRP_TTL) return drop('ttl');
  if (v.version !== spec.version) return drop('version');
  if (v.vrid !== spec.vrid) return drop('other-vrid');
  if (structural === Reason.BAD_VRRP_TYPE) return drop('type');
  if (structural === Reason.BAD_VRRP_AUTH) return drop('auth-type');
  if (structural !== Reason.OK) return drop('length');
  if (spec.version === 2) {
    const wanted = spec.authPass !== null ? VrrpAuth.PASSWORD : VrrpAuth.NONE;
    if (v.authType !== wanted) return drop('auth-type');
    if (spec.authPass !== null && !v.passwordMatches(VrrpRepr.passwordAuth(spec.authPass)))
      return drop('auth');
    if (v.advertIntervalCs * 10 !== spec.advertIntervalMs) return drop('interval');
  } else if (v.advertIntervalCs === 0) {
    // A master that never advertises: learning it would make Master_Down_Interval zero.
    return drop('interval');
  }
  if (!v.verifyChecksum(pseudoSum(spec.version, pkt.src, pkt.dst, v.len))) return drop('checksum');
  if (isMulticast(pkt.dst) === unicast) return drop('cast-mismatch');
  if (unicast && !spec.unicastPeers.some((p) => ipEquals(p, pkt.src))) return drop('unknown-peer');
  return {
    ok: true,
    advert: { src: pkt.src, priority: v.priority, advertIntervalMs: v.advertIntervalCs * 10 },
    addressMismatch: addressMismatch(v, spec.addresses),
    intervalMismatch: spec.version === 3 && v.advertIntervalCs * 10 !== spec.advertIntervalMs,
  };
}

function addressMismatch(v: VrrpPacket, ours: readonly IpAddress[]): 'count' | 'list' | null {
  if (v.count !== ours.length) return 'count';
  for (const a of ours) {
    let found = false;
    for (let i = 0; i < v.count && !found; i++)
      found = ipEquals(ipFromBytes(v.buf, v.addrOff(i), a.family), a);
    if (!found) return 'list';
  }
  return null;
}

const ip4 = new Ipv4Packet();

/** What an IPv4 raw socket hands over (header included) -> RxPacket, or null when it is not sound. */
export function parseIpv4Datagram(bytes: Uint8Array): RxPacket | null {
  const ip = ip4.reset(bytes, 0, bytes.length);
  if (ip.check() !== Reason.OK || ip.protocol !== IpProto.VRRP || ip.isFragment) return null;
  return {
    src: ipFromBytes(bytes, 12, 4),
    dst: ipFromBytes(bytes, 16, 4),
    ttl: ip.ttl,
    message: bytes.subarray(ip.payloadOff, ip.payloadOff + ip.payloadLen),
  };
}
