/**
 * The frames a new master sends so neighbours update their caches (pure, no I/O):
 * - IPv4: a gratuitous ARP request in keepalived's form (THA ff:ff:ff:ff:ff:ff, SPA = TPA = the VIP);
 * - IPv6: an unsolicited Neighbor Advertisement (RFC 4861 §4.4, §7.2.6) from the VIP to ff02::1 with
 *   the Override flag and a Target Link-Layer Address option, hop limit 255, as keepalived's vrrp_ndisc.c.
 */
import type { IpAddress } from '../engine/addr.js';
import { writeGratuitousArp } from '../wire/arp.js';
import { MAC_BROADCAST, writeMac, writeU32 } from '../wire/bytes.js';
import { checksum, pseudoSumV6Words } from '../wire/checksum.js';

const ETH_HLEN = 14;
const IPV6_HLEN = 40;
const NA_LEN = 32; // ICMPv6 header (4) + flags (4) + target (16) + TLLA option (8)
const ICMPV6 = 58;
const NA_TYPE = 136;
const NA_FLAG_OVERRIDE = 0x20;
const OPT_TARGET_LLADDR = 2;

/** Ethernet + ARP (42 bytes) + padding to the 60-byte minimum. */
export const GARP_FRAME_LEN = 60;
export const NA_FRAME_LEN = ETH_HLEN + IPV6_HLEN + NA_LEN;

/** A 6-byte MAC as the 48-bit integer the wire module uses. */
export function macToNumber(mac: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + (mac[i] ?? 0);
  return n;
}

/** Gratuitous ARP for `vip` at `mac`; returns the frame length (padded). */
export function writeGarp(out: Uint8Array, mac: number, vip: IpAddress): number {
  out.fill(0, 0, GARP_FRAME_LEN);
  writeGratuitousArp(out, 0, mac, vip.words[0], { form: 'request', requestTargetMac: MAC_BROADCAST });
  return GARP_FRAME_LEN;
}

function writeWords(out: Uint8Array, off: number, words: readonly number[]): void {
  for (let i = 0; i < 4; i++) writeU32(out, off + 4 * i, words[i]!);
}

const ALL_NODES = [0xff020000, 0, 0, 1] as const;

/** Unsolicited NA for `vip` at `mac`; returns the frame length. */
export function writeUnsolicitedNa(out: Uint8Array, mac: number, vip: IpAddress): number {
  out.fill(0, 0, NA_FRAME_LEN);
  // Ethernet: 33:33:00:00:00:01 (RFC 2464 §7 mapping of ff02::1), our MAC, EtherType IPv6.
  out.set([0x33, 0x33, 0, 0, 0, 1], 0);
  writeMac(out, 6, mac);
  out[12] = 0x86;
  out[13] = 0xdd;
  const ip = ETH_HLEN;
  out[ip] = 0x60;
  out[ip + 4] = NA_LEN >>> 8;
  out[ip + 5] = NA_LEN & 255;
  out[ip + 6] = ICMPV6;
  out[ip + 7] = 255; // RFC 4861 §7.1.2: receivers drop NDP with any other hop limit
  writeWords(out, ip + 8, vip.words);
  writeWords(out, ip + 24, ALL_NODES);
  const na = ip + IPV6_HLEN;
  out[na] = NA_TYPE;
  out[na + 4] = NA_FLAG_OVERRIDE;
  writeWords(out, na + 8, vip.words);
  out[na + 24] = OPT_TARGET_LLADDR;
  out[na + 25] = 1; // length in units of 8 bytes
  writeMac(out, na + 26, mac);
  const c = checksum(out, na, NA_LEN, pseudoSumV6Words(vip.words, 0, ALL_NODES, 0, ICMPV6, NA_LEN));
  out[na + 2] = c >>> 8;
  out[na + 3] = c & 255;
  return NA_FRAME_LEN;
}
