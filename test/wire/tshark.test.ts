/**
 * Independent cross-check: frames built by OUR emitters/builders (not the scapy fixtures) are handed to
 * tshark with checksum validation on; it must find every checksum good and read back the values we set.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseIp } from '../../src/engine/addr.js';
import { writeGratuitousArp } from '../../src/wire/arp.js';
import { ETH_HEADER_LEN, EthernetFrame, EthernetRepr, EtherType } from '../../src/wire/ethernet.js';
import { writeFragNeeded, writePacketTooBig } from '../../src/wire/icmp-errors.js';
import { encapIpip } from '../../src/wire/ipip.js';
import { IpProto, Ipv4Packet, Ipv4Repr } from '../../src/wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../../src/wire/ipv6.js';
import { encodeProxyV2, ProxyHeader, ProxyTlvType, proxyV2Len } from '../../src/wire/proxy-protocol.js';
import { TcpFlag, TcpPacket } from '../../src/wire/tcp.js';
import { insertToa } from '../../src/wire/tcp-options.js';
import { TcpRepr } from '../../src/wire/tcp-repr.js';
import { UdpPacket, UdpRepr } from '../../src/wire/udp.js';
import { VrrpAuth, VrrpPacket, VrrpRepr } from '../../src/wire/vrrp.js';
import { programSkipReason } from '../helpers/env.js';

const v4 = (s: string) => parseIp(s).words[0];
const v6 = (s: string) => parseIp(s).words;

function withEthernet(ip: Uint8Array, type: number): Uint8Array {
  const f = new Uint8Array(ETH_HEADER_LEN + ip.length);
  new EthernetRepr({ dst: 0x020000000002, src: 0x020000000001, etherType: type }).emit(new EthernetFrame(f));
  f.set(ip, ETH_HEADER_LEN);
  return f;
}

/** IPv4 + TCP (optionally with payload) built from Reprs. */
function ipv4Tcp(
  tcp: TcpRepr,
  payload: Uint8Array,
  opts: { df?: boolean; src?: string; dst?: string } = {},
): Uint8Array {
  tcp.payloadLen = payload.length;
  const ipr = new Ipv4Repr({
    src: v4(opts.src ?? '192.0.2.1'),
    dst: v4(opts.dst ?? '198.51.100.10'),
    protocol: IpProto.TCP,
    payloadLen: tcp.bufferLen(),
    dontFrag: opts.df ?? true,
    ident: 77,
    tos: 0x10,
  });
  const b = new Uint8Array(ipr.bufferLen());
  const ip = new Ipv4Packet(b);
  ipr.emit(ip);
  b.set(payload, ipr.headerLen() + tcp.headerLen());
  tcp.emit(new TcpPacket(b, ipr.headerLen(), tcp.bufferLen()), ip.pseudoSum());
  return b;
}

function ipv6Udp(payload: Uint8Array): Uint8Array {
  const udp = new UdpRepr({ srcPort: 40000, dstPort: 53, payloadLen: payload.length });
  const ipr = new Ipv6Repr({
    src: v6('2001:db8::1'),
    dst: v6('2001:db8:1::10'),
    nextHeader: IpProto.UDP,
    payloadLen: udp.bufferLen(),
  });
  const b = new Uint8Array(ipr.bufferLen());
  const ip = new Ipv6Packet(b);
  ipr.emit(ip);
  ip.check();
  b.set(payload, 48);
  udp.emit(new UdpPacket(b, 40, udp.bufferLen()), ip.pseudoSum());
  return b;
}

function vrrp(repr: VrrpRepr, family: 4 | 6): Uint8Array {
  const len = repr.bufferLen();
  if (family === 4) {
    const ipr = new Ipv4Repr({
      src: v4('10.0.0.1'),
      dst: v4('224.0.0.18'),
      protocol: IpProto.VRRP,
      payloadLen: len,
      ttl: 255,
    });
    const b = new Uint8Array(ipr.bufferLen());
    const ip = new Ipv4Packet(b);
    ipr.emit(ip);
    repr.emit(new VrrpPacket(b, 20, len, 4), repr.version === 2 ? 0 : ip.pseudoSum());
    return withEthernet(b, EtherType.IPV4);
  }
  const ipr = new Ipv6Repr({
    src: v6('fe80::1'),
    dst: v6('ff02::12'),
    nextHeader: IpProto.VRRP,
    payloadLen: len,
    hopLimit: 255,
  });
  const b = new Uint8Array(ipr.bufferLen());
  const ip = new Ipv6Packet(b);
  ipr.emit(ip);
  ip.check();
  repr.emit(new VrrpPacket(b, 40, len, 6), ip.pseudoSum());
  return withEthernet(b, EtherType.IPV6);
}

function pcap(frames: Uint8Array[]): Buffer {
  const parts = [Buffer.alloc(24)];
  parts[0]!.writeUInt32LE(0xa1b2c3d4, 0);
  parts[0]!.writeUInt16LE(2, 4);
  parts[0]!.writeUInt16LE(4, 6);
  parts[0]!.writeUInt32LE(65535, 16);
  parts[0]!.writeUInt32LE(1, 20); // Ethernet
  frames.forEach((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(i + 1, 0);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    parts.push(h, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

const FIELDS = [
  'ip.checksum.status',
  'tcp.checksum.status',
  'udp.checksum.status',
  'icmp.checksum.status',
  'icmpv6.checksum.status',
  'vrrp.checksum.status',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'icmp.mtu',
  'icmpv6.mtu',
  'vrrp.prio',
  'vrrp.auth_string',
  'ip.proto',
  'arp.isgratuitous',
  'proxy.src.ipv6',
  'proxy.dstport',
  'proxy.v2.length',
];

test('tshark validates the checksums and reads the fields of frames we built', {
  skip: programSkipReason('tshark') ?? false,
}, () => {
  const syn = ipv4Tcp(
    new TcpRepr({
      srcPort: 51000,
      dstPort: 80,
      seq: 1,
      flags: TcpFlag.SYN,
      options: [
        { kind: 'mss', mss: 1400 },
        { kind: 'sack-permitted' },
        { kind: 'timestamp', tsVal: 1, tsEcr: 0 },
        { kind: 'nop' },
        { kind: 'wscale', shift: 9 },
      ],
    }),
    new Uint8Array(0),
  );
  const big = ipv4Tcp(
    new TcpRepr({ srcPort: 51001, dstPort: 80, flags: TcpFlag.ACK }),
    new Uint8Array(1460).fill(7),
  );
  const fragNeeded = new Uint8Array(600);
  const fnLen = writeFragNeeded(fragNeeded, 0, fragNeeded.length, v4('10.0.0.1'), big, 0, big.length, 1480);
  const big6 = ipv6Udp(new Uint8Array(1452).fill(9));
  const ptb = new Uint8Array(1300);
  const ptbLen = writePacketTooBig(ptb, 0, ptb.length, v6('2001:db8:ffff::1'), 0, big6, 0, big6.length, 1280);
  const tun = new Uint8Array(20 + syn.length);
  tun.set(syn, 20);
  const tunOff = encapIpip(tun, 20, syn.length, v4('10.0.0.1'), v4('10.0.0.2'), 64, 1);
  // TOA inserted into an ACK carrying data, then the IP length grown: checksums stay right.
  const ack = ipv4Tcp(
    new TcpRepr({ srcPort: 40001, dstPort: 8080, flags: TcpFlag.ACK | TcpFlag.PSH }),
    new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'),
  );
  const toaBuf = new Uint8Array(ack.length + 8);
  toaBuf.set(ack);
  const ip = new Ipv4Packet(toaBuf, 0, ack.length);
  const t = new TcpPacket(toaBuf, 20, ack.length - 20);
  const added = insertToa(t, toaBuf.length, 254, 51000, 4, [v4('203.0.113.7')], 0, false);
  ip.rewriteTotalLen(ip.totalLen + added);
  // PROXY v2 over IPv6 with a TLV, as the first bytes of a TCP stream.
  const ph = new ProxyHeader().setAddresses(parseIp('2001:db8::1'), 1234, parseIp('2001:db8::2'), 8443);
  const tlvs = [{ type: ProxyTlvType.AUTHORITY, value: new TextEncoder().encode('example.com') }];
  const pp = new Uint8Array(proxyV2Len(ph, tlvs));
  encodeProxyV2(ph, pp, 0, pp.length, tlvs);
  const proxied = ipv4Tcp(
    new TcpRepr({ srcPort: 40100, dstPort: 8080, flags: TcpFlag.ACK | TcpFlag.PSH }),
    pp,
    { src: '10.9.9.9' },
  );
  const garp = new Uint8Array(60);
  writeGratuitousArp(garp, 0, 0x020000000002, v4('198.51.100.10'), { form: 'reply' });

  const frames = [
    withEthernet(syn, EtherType.IPV4),
    withEthernet(fragNeeded.subarray(0, fnLen), EtherType.IPV4),
    withEthernet(ptb.subarray(0, ptbLen), EtherType.IPV6),
    withEthernet(tun.subarray(tunOff), EtherType.IPV4),
    withEthernet(toaBuf, EtherType.IPV4),
    vrrp(
      new VrrpRepr({
        version: 2,
        vrid: 51,
        priority: 150,
        advertIntervalCs: 100,
        addresses: [v4('198.51.100.10')],
        authType: VrrpAuth.PASSWORD,
        auth: VrrpRepr.passwordAuth('s3cret'),
      }),
      4,
    ),
    vrrp(
      new VrrpRepr({
        version: 3,
        vrid: 51,
        priority: 200,
        advertIntervalCs: 100,
        addresses: [v4('198.51.100.10'), v4('198.51.100.11')],
      }),
      4,
    ),
    vrrp(
      new VrrpRepr({
        version: 3,
        vrid: 52,
        priority: 100,
        advertIntervalCs: 50,
        addresses: [v6('fe80::33')],
        family: 6,
      }),
      6,
    ),
    withEthernet(ipv6Udp(new Uint8Array([1, 2, 3])), EtherType.IPV6),
    withEthernet(proxied, EtherType.IPV4),
    garp,
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tslvs-wire-'));
  try {
    const file = join(dir, 'built.pcap');
    writeFileSync(file, pcap(frames));
    const args = [
      '-r',
      file,
      '-o',
      'ip.check_checksum:TRUE',
      '-o',
      'tcp.check_checksum:TRUE',
      '-o',
      'udp.check_checksum:TRUE',
      '-o',
      'tcp.try_heuristic_first:TRUE',
      '-T',
      'fields',
      '-E',
      'separator=|',
    ];
    for (const f of FIELDS) args.push('-e', f);
    const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((line) => Object.fromEntries(line.split('|').map((v, i) => [FIELDS[i]!, v])));
    assert.equal(rows.length, frames.length);
    const good = (row: Record<string, string>, field: string) =>
      assert.equal(row[field]!.split(',')[0], '1', `${field} in ${JSON.stringify(row)}`);
    const [s, fnRow, ptbRow, tunRow, toaRow, v2, v3, v36, udp6, prox, arp] = rows as Array<
      Record<string, string>
    >;
    good(s!, 'ip.checksum.status');
    good(s!, 'tcp.checksum.status');
    assert.equal(s!['tcp.options.mss_val'], '1400');
    assert.equal(s!['tcp.options.wscale.shift'], '9');
    good(fnRow!, 'ip.checksum.status');
    good(fnRow!, 'icmp.checksum.status');
    assert.equal(fnRow!['icmp.mtu'], '1480');
    good(ptbRow!, 'icmpv6.checksum.status');
    assert.equal(ptbRow!['icmpv6.mtu'], '1280');
    assert.equal(tunRow!['ip.proto'], '4,6');
    assert.equal(tunRow!['ip.checksum.status'], '1,1');
    good(tunRow!, 'tcp.checksum.status');
    good(toaRow!, 'ip.checksum.status');
    good(toaRow!, 'tcp.checksum.status');
    for (const row of [v2!, v3!, v36!]) good(row, 'vrrp.checksum.status');
    assert.equal(v2!['vrrp.auth_string'], 's3cret');
    assert.equal(v3!['vrrp.prio'], '200');
    good(udp6!, 'udp.checksum.status');
    good(prox!, 'tcp.checksum.status');
    assert.equal(prox!['proxy.src.ipv6'], '2001:db8::1');
    assert.equal(prox!['proxy.dstport'], '8443');
    assert.equal(prox!['proxy.v2.length'], String(36 + 3 + 11)); // addresses + the TLV
    assert.equal(arp!['arp.isgratuitous'], '1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
