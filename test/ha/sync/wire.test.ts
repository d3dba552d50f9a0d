/**
 * The sync datagram codec: records and headers round-trip (IPv4 and IPv6, generated values), lengths and
 * reserved bits are enforced, the tag authenticates, and random or mutated datagrams — even correctly
 * signed ones — are counted by the receiver without ever throwing or installing anything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseEndpoint } from '../../../src/engine/addr.js';
import { newSyncedSession, type SyncedSession } from '../../../src/engine/conntable/sync.js';
import { SyncAuth } from '../../../src/ha/sync/auth.js';
import { FakeSyncNet } from '../../../src/ha/sync/fake.js';
import { Emitter } from '../../../src/ha/sync/outbox.js';
import { ReplayVerdict, ReplayWindow } from '../../../src/ha/sync/replay.js';
import { SessionSync } from '../../../src/ha/sync/session-sync.js';
import { balancerStore } from '../../../src/ha/sync/store.js';
import {
  decodeRecord,
  encodeRecord,
  HDR,
  newSyncHeader,
  readSyncHeader,
  recordLen,
  SYNC_HEADER_LEN,
  SYNC_TAG_LEN,
  SyncType,
  WireError,
  writeSyncHeader,
} from '../../../src/ha/sync/wire.js';
import { addService, makeBalancer } from '../../engine/helpers.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const words = (af: 4 | 6) =>
  fc.tuple(u32, u32, u32, u32).map((w) => (af === 4 ? [w[0], 0, 0, 0] : w) as number[]);

const record = fc.constantFrom<4 | 6>(4, 6).chain((af) =>
  fc.record({
    af: fc.constant(af),
    proto: fc.constantFrom(6, 17),
    fwd: fc.integer({ min: 0, max: 3 }),
    state: fc.integer({ min: 0, max: 10 }),
    flags: fc.integer({ min: 0, max: 0x3f }),
    cport: u16,
    vport: u16,
    dport: u16,
    lport: u16,
    timeoutMs: u32,
    seqDelta: i32,
    isn: i32,
    caddr: words(af),
    vaddr: words(af),
    daddr: words(af),
    laddr: words(af),
  }),
);

type RecordFields = typeof record extends fc.Arbitrary<infer T> ? T : never;

function fill(r: SyncedSession, v: RecordFields): SyncedSession {
  Object.assign(r, { ...v, caddr: r.caddr, vaddr: r.vaddr, daddr: r.daddr, laddr: r.laddr });
  r.caddr.set(v.caddr);
  r.vaddr.set(v.vaddr);
  r.daddr.set(v.daddr);
  r.laddr.set(v.laddr);
  return r;
}

test('records round-trip; their length follows the family; truncation and reserved bits are refused', () => {
  fc.assert(
    fc.property(record, (v) => {
      const r = fill(newSyncedSession(), v);
      const b = new Uint8Array(200);
      const end = encodeRecord(b, 3, b.length, r);
      assert.equal(end, 3 + recordLen(v.af));
      const back = newSyncedSession();
      assert.equal(decodeRecord(b, 3, end, back), end);
      assert.deepEqual(
        {
          ...back,
          caddr: [...back.caddr],
          vaddr: [...back.vaddr],
          daddr: [...back.daddr],
          laddr: [...back.laddr],
        },
        { ...v },
      );
      assert.equal(decodeRecord(b, 3, end - 1, back), -1, 'one byte short');
      assert.equal(encodeRecord(b, 3, end - 1, r), -1, 'no room');
      b[3 + 15] = 1;
      assert.equal(decodeRecord(b, 3, end, back), -1, 'reserved bits');
    }),
  );
  const b = new Uint8Array(100);
  b[0] = 5;
  assert.equal(decodeRecord(b, 0, 100, newSyncedSession()), -1, 'unknown family');
});

test('headers round-trip (48-bit epochs included) and every inconsistency has its error', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 2 ** 48 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      u32,
      u32,
      (type, flags, epoch, seq, stream, value) => {
        const body = type === SyncType.SESSIONS ? 44 : 0;
        const h = {
          ...newSyncHeader(),
          type,
          flags,
          count: body ? 1 : 0,
          bodyLen: body,
          epoch,
          seq,
          stream,
          value,
        };
        const b = new Uint8Array(SYNC_HEADER_LEN + body + SYNC_TAG_LEN);
        writeSyncHeader(b, h);
        const back = newSyncHeader();
        assert.equal(readSyncHeader(b, b.length, back), WireError.OK);
        assert.deepEqual(back, h);
      },
    ),
  );
  const h = { ...newSyncHeader(), type: SyncType.SNAPSHOT_END, seq: 1 };
  const b = new Uint8Array(SYNC_HEADER_LEN + SYNC_TAG_LEN);
  const out = newSyncHeader();
  const check = (mutate: (x: Uint8Array) => void, want: number) => {
    writeSyncHeader(b, h);
    mutate(b);
    assert.equal(readSyncHeader(b, b.length, out), want);
  };
  check(() => undefined, WireError.OK);
  check((x) => (x[0] = 0), WireError.MAGIC);
  check((x) => (x[HDR.VERSION] = 2), WireError.VERSION);
  check((x) => (x[HDR.TYPE] = 9), WireError.TYPE);
  check((x) => (x[HDR.FLAGS] = 0x80), WireError.TYPE);
  check((x) => (x[HDR.BODY_LEN + 1] = 4), WireError.LENGTH);
  check((x) => x.fill(0, HDR.SEQ, HDR.SEQ + 4), WireError.TYPE);
  assert.equal(readSyncHeader(b, 20, out), WireError.SHORT);
});

test('the tag authenticates header and body with the key', () => {
  const auth = new SyncAuth('k'.repeat(16));
  const b = new Uint8Array(64 + SYNC_TAG_LEN);
  b.fill(7, 0, 64);
  const n = auth.sign(b, 64);
  assert.equal(n, 64 + SYNC_TAG_LEN);
  assert.ok(auth.verify(b, n));
  assert.ok(!new SyncAuth('j'.repeat(16)).verify(b, n));
  for (const at of [0, 63, 64, n - 1]) {
    const c = Uint8Array.from(b);
    c[at]! ^= 0x10;
    assert.ok(!auth.verify(c, n), `byte ${at}`);
  }
  assert.ok(!auth.verify(b, 10));
});

test('random and signed-garbage datagrams are counted, never thrown, never installed', () => {
  const key = 'fuzz-key-fuzz-key';
  const bal = makeBalancer();
  addService(bal, { dests: [{ addr: '192.168.1.1' }] });
  const net = new FakeSyncNet();
  const sync = new SessionSync(
    {
      listen: parseEndpoint('10.0.0.2:8848'),
      peers: [parseEndpoint('10.0.0.1:8848')],
      key,
      refreshIntervalMs: 10_000,
      snapshotWaitMs: 1000,
    },
    balancerStore(bal, null),
    net.socket('10.0.0.2', 8848),
  );
  const auth = new SyncAuth(key);
  const from = { address: '10.0.0.1', port: 8848 };
  let seq = 1;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), fc.boolean(), (bytes, sign) => {
      const b = new Uint8Array(bytes.length + (sign ? SYNC_TAG_LEN + SYNC_HEADER_LEN : 0));
      b.set(bytes, sign ? SYNC_HEADER_LEN : 0);
      if (sign) {
        // A well-formed header over garbage records, correctly signed: only record parsing stands guard.
        writeSyncHeader(b, {
          ...newSyncHeader(),
          type: SyncType.SESSIONS,
          count: Math.min(255, bytes.length),
          bodyLen: bytes.length,
          epoch: 5,
          seq: seq++,
        });
        auth.sign(b, b.length - SYNC_TAG_LEN);
      }
      sync.receive(b, b.length, from);
    }),
    { numRuns: 2000 },
  );
  const c = sync.status(0).counters;
  assert.ok(c.malformed! + c.bad_auth! > 0);
  assert.equal(bal.conns.count, 0);
});

test('sequence numbers never wrap within an epoch: the sender moves to the next epoch', () => {
  const net = new FakeSyncNet();
  const sock = net.socket('10.0.0.1', 8848);
  const peers = [
    { address: '10.0.0.2', port: 8848 },
    { address: '10.0.0.3', port: 8848 },
  ];
  const counters = new Float64Array(32);
  const emitter = new Emitter(sock, new SyncAuth('k'.repeat(16)), 1000, peers, counters, 3);
  const windows = [new ReplayWindow(), new ReplayWindow()];
  const h = newSyncHeader();
  const verdicts: number[] = [];
  for (let i = 0; i < 8; i++) {
    emitter.emit(i % 2, SyncType.SNAPSHOT_REQUEST, 0, 1, 0, null);
    const d = net.sent.at(-1)!;
    assert.equal(readSyncHeader(d.bytes, d.bytes.length, h), WireError.OK);
    verdicts.push(windows[i % 2]!.accept(h.epoch, h.seq));
  }
  assert.equal(emitter.epoch, 1001, 'one epoch later after three datagrams to a peer');
  assert.ok(!verdicts.includes(ReplayVerdict.REPLAY) && !verdicts.includes(ReplayVerdict.STALE_EPOCH));
  assert.deepEqual(
    windows.map((w) => [w.epoch, w.highest]),
    [
      [1001, 1],
      [1001, 1],
    ],
  );
});
