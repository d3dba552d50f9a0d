import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readU16 } from '../../src/wire/bytes.js';
import { finishPartialChecksum, fold } from '../../src/wire/checksum.js';
import { Ipv4Packet } from '../../src/wire/ipv4.js';
import { Ipv6Packet } from '../../src/wire/ipv6.js';
import { isReason, Reason } from '../../src/wire/reasons.js';
import { TCP, TCP_HEADER_LEN, TcpFlag, TcpOptKind, TcpPacket } from '../../src/wire/tcp.js';
import {
  findTcpOption,
  insertToa,
  openTcpOptionSpace,
  TcpOptionIter,
  tcpMss,
  tcpTsVal,
  tcpWindowScale,
} from '../../src/wire/tcp-options.js';
import { type TcpOption, TcpRepr } from '../../src/wire/tcp-repr.js';
import { readToa, TOA_KIND_DEFAULT, ToaValue, writeToaV4 } from '../../src/wire/toa.js';
import { exact, fixture, fromHex, hex, ip4, ip6, num, type ScapyLayer, scapy } from './helpers.js';

const tcp = new TcpPacket();
const ip = new Ipv4Packet();
const ip6v = new Ipv6Packet();
const FLAG_LETTERS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32, E: 64, C: 128 };
const TCP_FIXTURES = [
  'tcp_syn_v4',
  'tcp_toa_v4',
  'tcp_notoa_v4',
  'tcp_toa_v6',
  'tcp_notoa_v6',
  'tcp_big_df_v4',
  'tcp_big_v6',
  'ipv6_routing',
  'vlan_qinq',
];

/** The TCP view of a fixture plus the pseudo-header sum from its IP layer. */
function tcpOf(name: string, buf?: Uint8Array) {
  const f = buf ?? fixture(name);
  const s = scapy(name, 'TCP');
  const v6 = s.offset >= 54 && f[12] === 0x86;
  let pseudo: number;
  let len: number;
  if (v6) {
    const o = scapy(name, 'IPv6').offset;
    ip6v.reset(f, o, f.length - o).check();
    pseudo = ip6v.pseudoSum();
    len = ip6v.upperLen;
  } else {
    const o = scapy(name, 'IP').offset;
    ip.reset(f, o, f.length - o).check();
    pseudo = ip.pseudoSum();
    len = ip.payloadLen;
  }
  return { f, s, pseudo, len, v: tcp.reset(f, s.offset, len) };
}

function scapyOptions(s: ScapyLayer): TcpOption[] {
  return (s.fields.options as Array<[string | number, unknown]>).map(([k, v]): TcpOption => {
    if (k === 'NOP') return { kind: 'nop' };
    if (k === 'EOL') return { kind: 'eol' };
    if (k === 'MSS') return { kind: 'mss', mss: v as number };
    if (k === 'WScale') return { kind: 'wscale', shift: v as number };
    if (k === 'SAckOK') return { kind: 'sack-permitted' };
    if (k === 'Timestamp')
      return { kind: 'timestamp', tsVal: (v as number[])[0]!, tsEcr: (v as number[])[1]! };
    if (k === TOA_KIND_DEFAULT) {
      const b = fromHex(v as string);
      const port = readU16(b, 0);
      if (b.length === 6)
        return {
          kind: 'toa',
          type: k,
          port,
          addr: { family: 4, words: [ip4([...b.subarray(2)].join('.')), 0, 0, 0] },
        };
      const words = [0, 1, 2, 3].map(
        (i) => ((b[2 + 4 * i]! << 24) | (b[3 + 4 * i]! << 16) | (b[4 + 4 * i]! << 8) | b[5 + 4 * i]!) >>> 0,
      );
      return {
        kind: 'toa',
        type: k,
        port,
        addr: { family: 6, words: words as [number, number, number, number] },
      };
    }
    throw new Error(`test does not map scapy option ${String(k)}`);
  });
}

test('TCP fixtures: fields match scapy, checksum verifies against the IP pseudo-header', () => {
  for (const name of TCP_FIXTURES) {
    const { s, v, pseudo } = tcpOf(name);
    assert.equal(v.check(), Reason.OK, name);
    assert.equal(v.srcPort, num(s, 'sport'), name);
    assert.equal(v.dstPort, num(s, 'dport'), name);
    assert.equal(v.seq, num(s, 'seq'), name);
    assert.equal(v.ack, num(s, 'ack'), name);
    assert.equal(v.headerLen, num(s, 'dataofs') * 4, name);
    assert.equal(
      v.flags,
      [...String(s.fields.flags)].reduce((a, c) => a | FLAG_LETTERS[c]!, 0),
      name,
    );
    assert.equal(v.window, num(s, 'window'), name);
    assert.equal(v.checksum, num(s, 'chksum'), name);
    assert.equal(v.urgent, num(s, 'urgptr'), name);
    assert.ok(v.verifyChecksum(pseudo), name);
    const repr = TcpRepr.parse(v, { pseudoSum: pseudo });
    assert.ok(!isReason(repr), name);
    assert.deepEqual(repr.options, scapyOptions(s), name);
  }
});

test('option helpers and the iterator', () => {
  const { v } = tcpOf('tcp_syn_v4');
  assert.equal(v.check(), Reason.OK);
  assert.equal(tcpMss(v), 1460);
  assert.equal(tcpWindowScale(v), 7);
  assert.equal(tcpTsVal(v), 123456);
  assert.equal(findTcpOption(v, TcpOptKind.SACK_PERMITTED), v.off + TCP.OPTIONS + 4);
  assert.equal(findTcpOption(v, TcpOptKind.SACK), -1);
  assert.equal(v.freeOptionSpace, 60 - v.headerLen);
  assert.ok(v.syn && !v.ackFlag && !v.fin && !v.rst);
  const kinds: number[] = [];
  const it = new TcpOptionIter();
  for (it.reset(v); it.next(); ) kinds.push(it.kind, it.len);
  assert.deepEqual(kinds, [2, 4, 4, 2, 8, 10, 3, 3]);
  const noopt = tcpOf('tcp_notoa_v6').v;
  assert.equal(noopt.check(), Reason.OK);
  assert.equal(tcpMss(noopt), -1);
  assert.equal(it.reset(noopt).next(), false);
});

test('TcpRepr emit reproduces every fixture segment exactly, checksum included', () => {
  for (const name of TCP_FIXTURES) {
    const { f, s, v, pseudo, len } = tcpOf(name);
    const repr = TcpRepr.parse(v, { pseudoSum: pseudo });
    assert.ok(!isReason(repr), name);
    assert.equal(repr.bufferLen(), len);
    const out = f.slice(s.offset, s.offset + len);
    out.fill(0x99, 0, repr.headerLen());
    repr.emit(tcp.reset(out, 0, len), pseudo);
    assert.equal(hex(out), hex(f.subarray(s.offset, s.offset + len)), name);
  }
  // Built from scratch: SACK blocks and EOL padding.
  const r = new TcpRepr({
    srcPort: 1,
    dstPort: 2,
    flags: TcpFlag.ACK,
    options: [
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: [
          [1, 2],
          [3, 4],
        ],
      },
      { kind: 'wscale', shift: 2 },
    ],
  });
  const out = new Uint8Array(r.bufferLen());
  r.emit(tcp.reset(out, 0, out.length), 0);
  assert.equal(tcp.check(), Reason.OK);
  assert.equal(r.headerLen(), 20 + 24);
  assert.deepEqual((TcpRepr.parse(tcp) as TcpRepr).options, [...r.options, { kind: 'eol' }]);
});

test('a corrupted checksum is caught by Repr.parse', () => {
  const { v, pseudo } = tcpOf('tcp_toa_v4', fixture('tcp_toa_v4').slice());
  v.buf[v.off + v.len - 1]! ^= 0x40;
  assert.equal(TcpRepr.parse(v, { pseudoSum: pseudo }), Reason.BAD_TCP_CHECKSUM);
});

test('truncation at every point and malformed data offsets / options', () => {
  for (const name of ['tcp_syn_v4', 'tcp_toa_v4']) {
    const { f, s, v } = tcpOf(name);
    const hl = v.headerLen;
    for (let len = 0; len < hl; len++) {
      assert.equal(
        tcp.reset(exact(f, s.offset, len), 0, len).check(),
        Reason.TRUNCATED_TCP,
        `${name} cut at ${len}`,
      );
    }
    assert.equal(tcp.reset(exact(f, s.offset, hl), 0, hl).check(), Reason.OK);
  }
  const { f, s, len } = tcpOf('tcp_syn_v4');
  const mut = (edit: (b: Uint8Array) => void) => {
    const b = f.slice(s.offset, s.offset + len);
    edit(b);
    return tcp.reset(b, 0, b.length).check();
  };
  const o = TCP.OPTIONS;
  assert.equal(
    mut((b) => (b[TCP.DATA_OFF] = 0x40)),
    Reason.BAD_TCP_DOFF,
  );
  assert.equal(
    mut((b) => (b[TCP.DATA_OFF] = 0xf0)),
    Reason.TRUNCATED_TCP,
  );
  assert.equal(
    mut((b) => (b[o + 1] = 5)),
    Reason.BAD_TCP_OPTION,
  ); // MSS length 5
  assert.equal(
    mut((b) => (b[o + 1] = 1)),
    Reason.BAD_TCP_OPTION,
  ); // length < 2
  assert.equal(
    mut((b) => (b[o + 17] = 4)),
    Reason.BAD_TCP_OPTION,
  ); // window scale length 4 runs past the header
  assert.equal(
    mut((b) => b.fill(1, o, o + 19).fill(2, o + 19, o + 20)),
    Reason.BAD_TCP_OPTION,
  ); // no length byte
  assert.equal(
    mut((b) => b.set([TcpOptKind.SACK, 2], o + 4)),
    Reason.BAD_TCP_OPTION,
  ); // empty SACK
  assert.equal(
    mut((b) => (b[o] = TcpOptKind.EOL)),
    Reason.OK,
  ); // EOL ends the list: the rest is ignored
  assert.equal(
    mut((b) => b.set([200, 4], o)),
    Reason.OK,
  ); // unknown kinds are skipped by length
});

test('TOA codec: the linux-packet.md example bytes and a round trip', () => {
  const b = new Uint8Array(8);
  writeToaV4(b, 0, TOA_KIND_DEFAULT, 51000, ip4('203.0.113.7'));
  assert.equal(hex(b), 'fe08c738cb007107');
  const t = new ToaValue();
  assert.ok(readToa(b, 0, 8, 254, t));
  assert.equal(t.family, 4);
  assert.equal(t.port, 51000);
  assert.equal(t.words[0], ip4('203.0.113.7'));
  assert.equal(readToa(b, 0, 8, 200, t), false); // another configured kind
  assert.equal(readToa(b, 0, 7, 254, t), false);
  b[1] = 9;
  assert.equal(readToa(b, 0, 8, 254, t), false);
});

test('insertToa turns the no-TOA fixtures into the TOA fixtures (scapy), normal and partial checksums', () => {
  for (const partial of [false, true]) {
    // IPv4
    const before = fixture('tcp_notoa_v4');
    const buf = new Uint8Array(before.length + 64);
    buf.set(before);
    const ipOff = scapy('tcp_notoa_v4', 'IP').offset;
    const { v, pseudo } = tcpOf('tcp_notoa_v4', buf);
    if (partial) v.checksum = fold(pseudo); // as veth hands it over
    const toa = scapy('tcp_toa_v4', 'TCP');
    const [, value] = (toa.fields.options as Array<[number, string]>)[0]!;
    const vb = fromHex(value);
    const added = insertToa(
      v,
      buf.length,
      254,
      readU16(vb, 0),
      4,
      [ip4([...vb.subarray(2)].join('.'))],
      0,
      partial,
    );
    assert.equal(added, 8);
    ip.reset(buf, ipOff, buf.length - ipOff).rewriteTotalLen(ip.totalLen + added);
    if (partial) finishPartialChecksum(buf, v.off, TCP.CHECKSUM, v.off + v.len, false);
    const after = fixture('tcp_toa_v4');
    assert.equal(hex(buf.subarray(0, after.length)), hex(after), `v4 partial=${partial}`);
    // IPv6
    const b6 = fixture('tcp_notoa_v6');
    const buf6 = new Uint8Array(b6.length + 64);
    buf6.set(b6);
    const t6 = tcpOf('tcp_notoa_v6', buf6);
    if (partial) t6.v.checksum = fold(t6.pseudo);
    const want = fixture('tcp_toa_v6');
    const addr = ip6('2001:db8::7');
    assert.equal(insertToa(t6.v, buf6.length, 254, 51001, 6, addr, 0, partial), 20);
    const ip6Off = scapy('tcp_notoa_v6', 'IPv6').offset;
    ip6v.reset(buf6, ip6Off, buf6.length - ip6Off).payloadLen += 20;
    if (partial) finishPartialChecksum(buf6, t6.v.off, TCP.CHECKSUM, t6.v.off + t6.v.len, false);
    assert.equal(hex(buf6.subarray(0, want.length)), hex(want), `v6 partial=${partial}`);
  }
});

test('option space: inserting fails without header room or buffer room', () => {
  const { v } = tcpOf('tcp_syn_v4', fixture('tcp_syn_v4').slice());
  assert.equal(openTcpOptionSpace(v, 8, v.off + v.len + 8), v.off + TCP_HEADER_LEN); // 40 -> 48 byte header
  assert.equal(v.headerLen, 48);
  assert.equal(openTcpOptionSpace(v, 16, v.buf.length + 100), -1); // would exceed 60
  assert.equal(openTcpOptionSpace(v, 6, v.buf.length + 100), -1); // not a multiple of 4
  const n = tcpOf('tcp_notoa_v4', fixture('tcp_notoa_v4').slice());
  assert.equal(insertToa(n.v, n.v.off + n.v.len + 7, 254, 1, 4, [1], 0, false), 0); // buffer too short
  assert.equal(n.v.headerLen, 32);
});

test('NAT helpers on a TCP segment keep the checksum equal to a recompute', () => {
  const f = fixture('tcp_toa_v4').slice();
  const { v, s } = tcpOf('tcp_toa_v4', f);
  const ipOff = scapy('tcp_toa_v4', 'IP').offset;
  ip.reset(f, ipOff, f.length - ipOff);
  const oldDst = ip.dst;
  ip.rewriteDst(ip4('10.1.1.1'));
  v.updateChecksumPseudo32(oldDst, ip.dst, false);
  v.rewriteDstPort(80, false);
  v.rewriteSrcPort(12345, false);
  const oldSeq = v.seq;
  v.seq = oldSeq + 1000;
  v.updateChecksum32(oldSeq, v.seq, false);
  const c = v.checksum;
  assert.ok(v.verifyChecksum(ip.pseudoSum()));
  v.fillChecksum(ip.pseudoSum());
  assert.equal(v.checksum, c);
  assert.equal(num(s, 'sport'), 40001);
});
