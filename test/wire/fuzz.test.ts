/**
 * Bounded, seeded fuzzing: random frames and mutated fixtures through every parser. Each frame is
 * dissected three times: inside a buffer poisoned with random bytes before and after it (twice, with
 * different poison) and as an exact-size copy. Identical traces prove no parser read outside the
 * frame's declared bytes (or a read past a typed array's end would show up as undefined/NaN).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArpPacket, ArpRepr } from '../../src/wire/arp.js';
import { EthernetFrame, EtherType } from '../../src/wire/ethernet.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4Packet, Ipv4Repr } from '../../src/wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../../src/wire/ipv6.js';
import {
  decodeProxyHeader,
  PROXY_INCOMPLETE,
  PROXY_INVALID,
  ProxyHeader,
} from '../../src/wire/proxy-protocol.js';
import { isReason, REASON_COUNT, REASON_NAMES, Reason } from '../../src/wire/reasons.js';
import { TcpPacket } from '../../src/wire/tcp.js';
import { TcpRepr } from '../../src/wire/tcp-repr.js';
import { UdpPacket, UdpRepr } from '../../src/wire/udp.js';
import { VrrpPacket, VrrpRepr } from '../../src/wire/vrrp.js';
import { Dissector } from './dissect.js';
import { ascii, fixture, fixtureNames, fromHex } from './helpers.js';

const RANDOM_FRAMES = 50_000;
const MUTATED_FRAMES = 150_000;
const PROXY_INPUTS = 30_000;
const ROUND_TRIP_EVERY = 7;

/** mulberry32: small, seedable, good enough to spread inputs. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(0x5eed_1234);
const int = (n: number) => Math.floor(rand() * n);

function randomFrame(): Uint8Array {
  const f = new Uint8Array(int(320));
  for (let i = 0; i < f.length; i++) f[i] = int(256);
  // Plausible headers more often than chance, to get past the first checks.
  if (f.length > 14 && rand() < 0.7) {
    const t = [EtherType.IPV4, EtherType.IPV6, EtherType.ARP, EtherType.VLAN][int(4)]!;
    f[12] = t >> 8;
    f[13] = t & 255;
    if (f.length > 23 && rand() < 0.7) {
      f[14] = t === EtherType.IPV6 ? 0x60 : 0x45;
      f[23] = [IpProto.TCP, IpProto.UDP, IpProto.ICMP, IpProto.VRRP, IpProto.IPIP][int(5)]!;
      if (t === EtherType.IPV4) {
        const total = f.length - 14 - int(4);
        f[16] = total >> 8;
        f[17] = total & 255;
      }
    }
  }
  return f;
}

function mutate(src: Uint8Array): Uint8Array {
  let f = src.slice();
  for (let n = 1 + int(3); n > 0; n--) {
    const pos = rand() < 0.7 ? int(Math.min(f.length, 90)) : int(Math.max(f.length, 1));
    switch (int(7)) {
      case 0:
        f[pos] = f[pos]! ^ (1 << int(8));
        break;
      case 1:
        f[pos] = [0, 0xff, int(256), 1, 5, 0x40][int(6)]!;
        break;
      case 2:
        f = f.slice(0, int(f.length + 1));
        break;
      case 3: {
        const g = new Uint8Array(f.length + 1 + int(40));
        g.set(f);
        for (let i = f.length; i < g.length; i++) g[i] = int(256);
        f = g;
        break;
      }
      case 4: {
        // A 16-bit field (often a length) set to something near the frame size or extreme.
        const v = [0, 0xffff, f.length, f.length - 13, f.length - 35, int(0x10000)][int(6)]!;
        f[pos] = v >> 8;
        f[pos + 1] = v & 255;
        break;
      }
      case 5:
        f = Uint8Array.from([...f.subarray(0, pos), int(256), ...f.subarray(pos)]);
        break;
      default:
        f = Uint8Array.from([...f.subarray(0, pos), ...f.subarray(pos + 1)]);
    }
  }
  return f;
}

const arena = new Uint8Array(4096);
const OFF = 37; // odd on purpose
/** Random poison, copied around each frame from a varying start so every placement differs. */
const poison = Uint8Array.from({ length: 16384 }, () => int(256));

function place(frame: Uint8Array, poisonSeed: number): void {
  const start = (poisonSeed * 7919) % (poison.length - arena.length);
  arena.set(poison.subarray(start, start + arena.length));
  arena.set(frame, OFF);
}

const d = new Dissector();

function checkFrame(frame: Uint8Array, i: number): void {
  place(frame, i * 2 + 1);
  const a = d.run(arena, OFF, frame.length).slice();
  place(frame, i * 2 + 2);
  const b = d.run(arena, OFF, frame.length).slice();
  const c = d.run(frame.slice(), 0, frame.length);
  if (
    a.length !== b.length ||
    a.some((x, k) => x !== b[k]) ||
    a.length !== c.length ||
    a.some((x, k) => x !== c[k])
  ) {
    assert.fail(`frame ${i} read outside its bytes: ${Buffer.from(frame).toString('hex')}`);
  }
  if (i % ROUND_TRIP_EVERY === 0) roundTrips(frame);
}

const eth = new EthernetFrame();
const ip4 = new Ipv4Packet();
const ip6 = new Ipv6Packet();
const tcp = new TcpPacket();
const udp = new UdpPacket();
const arp = new ArpPacket();
const vrrp = new VrrpPacket();

/** parse -> emit -> parse gives the same Repr: what a check accepted is self-consistent. */
function roundTrip<R extends { bufferLen(): number; emit(v: never, p?: number): void }>(
  parse: (b: Uint8Array) => R | Reason,
  view: { reset(b: Uint8Array, o: number, l: number): unknown },
  src: Uint8Array,
  pseudo?: number,
): void {
  const r = parse(src);
  if (isReason(r)) return;
  const out = src.slice(0, Math.max(src.length, r.bufferLen()));
  view.reset(out, 0, r.bufferLen());
  r.emit(view as never, pseudo);
  const again = parse(out.subarray(0, r.bufferLen()));
  assert.deepEqual(again, r);
}

function roundTrips(frame: Uint8Array): void {
  if (eth.reset(frame, 0, frame.length).check() !== Reason.OK) return;
  const pl = frame.subarray(eth.payloadOff);
  if (eth.etherType === EtherType.ARP) roundTrip((b) => ArpRepr.parse(arp.reset(b, 0, b.length)), arp, pl);
  if (eth.etherType === EtherType.IPV4 && ip4.reset(pl, 0, pl.length).check() === Reason.OK) {
    const total = ip4.totalLen;
    roundTrip((b) => Ipv4Repr.parse(ip4.reset(b, 0, b.length), false), ip4, pl.subarray(0, total));
    ip4.reset(pl, 0, pl.length);
    const l4 = pl.subarray(ip4.headerLen, total);
    if (!ip4.hasL4Header) return;
    if (ip4.protocol === IpProto.TCP) roundTrip((b) => TcpRepr.parse(tcp.reset(b, 0, b.length)), tcp, l4, 0);
    if (ip4.protocol === IpProto.UDP) roundTrip((b) => UdpRepr.parse(udp.reset(b, 0, b.length)), udp, l4, 0);
    if (ip4.protocol === IpProto.VRRP) {
      roundTrip((b) => VrrpRepr.parse(vrrp.reset(b, 0, b.length)), vrrp, l4, 0);
    }
  }
  if (eth.etherType === EtherType.IPV6 && ip6.reset(pl, 0, pl.length).check() === Reason.OK) {
    roundTrip((b) => Ipv6Repr.parse(ip6.reset(b, 0, b.length)), ip6, pl.subarray(0, ip6.end));
  }
}

test('reason names are snake_case, unique and cover every code', () => {
  assert.equal(REASON_NAMES.length, REASON_COUNT);
  assert.equal(new Set(REASON_NAMES).size, REASON_COUNT);
  for (const [k, v] of Object.entries(Reason)) assert.equal(REASON_NAMES[v], k.toLowerCase());
  assert.ok(REASON_NAMES.every((n) => /^[a-z0-9_]+$/.test(n)));
  assert.ok(Object.isFrozen(REASON_NAMES) && Object.isFrozen(Reason));
});

test(`fuzz: ${RANDOM_FRAMES} random + ${MUTATED_FRAMES} mutated frames through every parser`, () => {
  const started = Date.now();
  const seeds = fixtureNames().map((n) => fixture(n));
  let i = 0;
  for (; i < RANDOM_FRAMES; i++) checkFrame(randomFrame(), i);
  for (let k = 0; k < MUTATED_FRAMES; k++, i++) checkFrame(mutate(seeds[k % seeds.length]!), i);
  for (const s of seeds) checkFrame(s, i++);
  assert.deepEqual(d.invariants.slice(0, 5), [], 'a check passed on an inconsistent frame');
  // The fuzzer must actually reach the deep rejections, or it proves little.
  const reached = [...d.drops.keys()].filter((r) => d.drops[r]! > 0).map((r) => REASON_NAMES[r]);
  for (const must of [
    'bad_ihl',
    'truncated_ipv4',
    'bad_total_length',
    'bad_tcp_doff',
    'bad_tcp_option',
    'truncated_ipv6_ext',
    'bad_udp_length',
    'bad_ipv4_option',
    'bad_vrrp_length',
    'truncated_icmp_quote',
  ]) {
    assert.ok(reached.includes(must), `fuzzing never produced ${must}; reached: ${reached.join(' ')}`);
  }
  console.log(`fuzzed ${i} frames in ${Date.now() - started} ms; rejections: ${reached.join(' ')}`);
  assert.equal(IPV4_HEADER_LEN, 20);
});

test(`fuzz: ${PROXY_INPUTS} PROXY protocol inputs decode without reading past their length`, () => {
  const valid = [
    ascii('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n'),
    ascii('PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 1 65535\r\n'),
    ascii('PROXY UNKNOWN\r\n'),
    fromHex('0d0a0d0a000d0a515549540a 21 11 00 0C C0 00 02 01 C6 33 64 02 DC 04 01 BB'),
    fromHex(
      '0d0a0d0a000d0a515549540a 21 21 00 2a 20010db8000000000000000000000001 20010db8000000000000000000000002 0001 0002 04 0003 000000',
    ),
    fromHex('0d0a0d0a000d0a515549540a 20 00 00 00'),
  ];
  const h1 = new ProxyHeader();
  const h2 = new ProxyHeader();
  const fields = (h: ProxyHeader) => [
    h.version,
    h.command,
    h.family,
    h.transport,
    ...h.src,
    ...h.dst,
    h.srcPort,
    h.dstPort,
    h.headerLen,
    h.tlvLen,
    h.reason,
  ];
  let outcomes = [0, 0, 0];
  for (let i = 0; i < PROXY_INPUTS; i++) {
    const input = i % 3 === 0 ? randomFrame().subarray(0, int(120)) : mutate(valid[i % valid.length]!);
    place(input, i);
    const a = decodeProxyHeader(arena, OFF, input.length, h1);
    const b = decodeProxyHeader(input.slice(), 0, input.length, h2);
    assert.equal(a, b, Buffer.from(input).toString('hex'));
    assert.ok(a === PROXY_INCOMPLETE || a === PROXY_INVALID || (a > 0 && a <= input.length));
    if (a > 0) assert.deepEqual(fields(h1), fields(h2));
    if (a === PROXY_INVALID) assert.notEqual(h1.reason, Reason.OK);
    outcomes = [outcomes[0]! + +(a > 0), outcomes[1]! + +(a === 0), outcomes[2]! + +(a < 0)];
  }
  assert.ok(
    outcomes.every((n) => n > 100),
    `outcomes accepted/incomplete/invalid: ${outcomes.join('/')}`,
  );
});
