import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import { NeighbourTable } from '../../../src/engine/neighbours.js';
import { ErrorCodes, isTslvsError } from '../../../src/errors.js';

const A = parseIp('10.0.0.3');
const B6 = parseIp('2001:db8::3');
const MAC = 0x0200_0000_0a03;

function macOf(t: NeighbourTable, af: number, w: ArrayLike<number>, now: number): number {
  const slot = t.lookup(af, w, 0, now);
  return slot < 0 ? -1 : t.mac(slot);
}

function lookup(t: NeighbourTable, a: { family: 4 | 6; words: readonly number[] }, now: number) {
  const slot = t.lookup(a.family, a.words, 0, now);
  return { mac: slot < 0 ? -1 : t.mac(slot), request: t.wantRequest };
}

describe('NeighbourTable', () => {
  test('a miss asks once per retry interval', () => {
    const t = new NeighbourTable({ retryMs: 1000 });
    assert.deepEqual(lookup(t, A, 0), { mac: -1, request: true });
    assert.deepEqual(lookup(t, A, 999), { mac: -1, request: false });
    assert.deepEqual(lookup(t, A, 1000), { mac: -1, request: true });
  });

  test('reachable, then stale (used and re-asked), then gone', () => {
    const t = new NeighbourTable({ reachableMs: 30_000, staleMs: 60_000, retryMs: 1000 });
    assert.ok(t.learn(4, A.words, 0, MAC, 0));
    assert.deepEqual(lookup(t, A, 29_999), { mac: MAC, request: false });
    assert.deepEqual(lookup(t, A, 30_000), { mac: MAC, request: true });
    assert.deepEqual(lookup(t, A, 30_500), { mac: MAC, request: false });
    assert.deepEqual(lookup(t, A, 31_000), { mac: MAC, request: true });
    assert.deepEqual(lookup(t, A, 90_000), { mac: -1, request: true });
    t.learn(4, A.words, 0, MAC + 1, 90_100);
    assert.deepEqual(lookup(t, A, 90_200), { mac: MAC + 1, request: false });
  });

  test('families are separate; IPv6 compares all four words', () => {
    const t = new NeighbourTable();
    t.learn(6, B6.words, 0, MAC, 0);
    assert.equal(macOf(t, 6, B6.words, 1), MAC);
    assert.equal(macOf(t, 6, parseIp('2001:db8::4').words, 1), -1);
    assert.equal(macOf(t, 4, [B6.words[0]!, 0, 0, 0], 1), -1);
  });

  test('unsolicited announcements only refresh; static entries never age or change', () => {
    const t = new NeighbourTable({ reachableMs: 10, staleMs: 10 });
    assert.equal(t.learn(4, A.words, 0, MAC, 0, false), false);
    assert.equal(macOf(t, 4, A.words, 1), -1);
    t.setStatic(A, MAC);
    assert.equal(t.learn(4, A.words, 0, MAC + 5, 0), false);
    assert.equal(macOf(t, 4, A.words, 1e12), MAC);
    assert.equal(t.entries(5)[0]!.state, 'static');
    assert.ok(t.remove(A));
    assert.equal(macOf(t, 4, A.words, 1), -1);
  });

  test('bounded: the table never holds more than its slots, static entries survive', () => {
    const t = new NeighbourTable({ capacity: 16 });
    t.setStatic(A, MAC);
    for (let i = 0; i < 1000; i++) t.learn(4, [0x0b000000 + i, 0, 0, 0], 0, i, i);
    assert.ok(t.entries(1000).length <= t.slots);
    assert.equal(macOf(t, 4, A.words, 1000), MAC);
    // The most recent learn is always found.
    assert.equal(macOf(t, 4, [0x0b000000 + 999, 0, 0, 0], 1000), 999);
  });

  test('a set full of static entries refuses another', () => {
    const t = new NeighbourTable({ capacity: 16, seed: 1 });
    let err: unknown;
    try {
      for (let i = 0; i < 10_000; i++) t.setStatic(parseIp(`10.9.${i >> 8}.${i & 255}`), i);
    } catch (e) {
      err = e;
    }
    assert.ok(isTslvsError(err, ErrorCodes.CAPACITY), String(err));
  });

  test('bad options and MACs are refused', () => {
    assert.throws(
      () => new NeighbourTable({ capacity: 0 }),
      (e) => isTslvsError(e, ErrorCodes.INVALID_ARGUMENT),
    );
    assert.throws(
      () => new NeighbourTable({ retryMs: -1 }),
      (e) => isTslvsError(e, ErrorCodes.INVALID_ARGUMENT),
    );
    assert.throws(
      () => new NeighbourTable().setStatic(A, 2 ** 48),
      (e) => isTslvsError(e, ErrorCodes.INVALID_ARGUMENT),
    );
  });
});
