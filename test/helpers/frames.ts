/**
 * Small frame builders for I/O tests (not the product's wire codecs): Ethernet/IPv4/UDP/ICMP with correct
 * checksums, and parsers that pull the fields tests assert on.
 */

export function ipv4Bytes(addr: string): Buffer {
  return Buffer.from(addr.split('.').map((x) => Number(x)));
}

export function macBytes(mac: string | Uint8Array): Buffer {
  return typeof mac === 'string'
    ? Buffer.from(mac.split(':').map((x) => Number.parseInt(x, 16)))
    : Buffer.from(mac);
}

/** RFC 1071 one's-complement sum, folded and complemented. */
export function inetChecksum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  tos?: number;
  flags?: number;
}

/** An IPv4 packet with a 20-byte header and a valid header checksum. */
export function ipv4Packet(o: Ipv4Options): Buffer {
  const hdr = Buffer.alloc(20);
  hdr[0] = 0x45;
  hdr[1] = o.tos ?? 0;
  hdr.writeUInt16BE(20 + o.payload.length, 2);
  hdr.writeUInt16BE(o.id ?? 1, 4);
  hdr.writeUInt16BE(o.flags ?? 0x4000, 6);
  hdr[8] = o.ttl ?? 64;
  hdr[9] = o.protocol;
  ipv4Bytes(o.src).copy(hdr, 12);
  ipv4Bytes(o.dst).copy(hdr, 16);
  hdr.writeUInt16BE(inetChecksum(hdr), 10);
  return Buffer.concat([hdr, o.payload]);
}

/** A UDP datagram (header + payload) with its checksum over the IPv4 pseudo-header. */
export function udpSegment(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload: Uint8Array,
): Buffer {
  const seg = Buffer.alloc(8 + payload.length);
  seg.writeUInt16BE(sport, 0);
  seg.writeUInt16BE(dport, 2);
  seg.writeUInt16BE(seg.length, 4);
  Buffer.from(payload).copy(seg, 8);
  const pseudo = Buffer.concat([
    ipv4Bytes(src),
    ipv4Bytes(dst),
    Buffer.from([0, 17, seg.length >> 8, seg.length & 0xff]),
  ]);
  const sum = inetChecksum(Buffer.concat([pseudo, seg]));
  seg.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return seg;
}

export function udpPacket(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload: Uint8Array,
): Buffer {
  return ipv4Packet({ src, dst, protocol: 17, payload: udpSegment(src, dst, sport, dport, payload) });
}

/** ICMP echo request (type 8) carrying `payload`. */
export function icmpEcho(src: string, dst: string, id: number, seq: number, payload: Uint8Array): Buffer {
  const icmp = Buffer.alloc(8 + payload.length);
  icmp[0] = 8;
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(seq, 6);
  Buffer.from(payload).copy(icmp, 8);
  icmp.writeUInt16BE(inetChecksum(icmp), 2);
  return ipv4Packet({ src, dst, protocol: 1, payload: icmp });
}

export function ethernetFrame(
  dst: string | Uint8Array,
  src: string | Uint8Array,
  etherType: number,
  payload: Uint8Array,
): Buffer {
  const hdr = Buffer.alloc(14);
  macBytes(dst).copy(hdr, 0);
  macBytes(src).copy(hdr, 6);
  hdr.writeUInt16BE(etherType, 12);
  const frame = Buffer.concat([hdr, payload]);
  return frame.length >= 60 ? frame : Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}

export interface ParsedUdp {
  dstMac: string;
  srcMac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
}

/** Parses an untagged Ethernet/IPv4/UDP frame, or returns null. */
export function parseUdpFrame(frame: Uint8Array): ParsedUdp | null {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 42 || b.readUInt16BE(12) !== 0x0800 || b[23] !== 17) return null;
  const ihl = (b[14]! & 0x0f) * 4;
  const l4 = 14 + ihl;
  const ulen = b.readUInt16BE(l4 + 4);
  return {
    dstMac: fmtMac(b.subarray(0, 6)),
    srcMac: fmtMac(b.subarray(6, 12)),
    src: b.subarray(26, 30).join('.'),
    dst: b.subarray(30, 34).join('.'),
    sport: b.readUInt16BE(l4),
    dport: b.readUInt16BE(l4 + 2),
    payload: Buffer.from(b.subarray(l4 + 8, l4 + ulen)),
  };
}

export function fmtMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
