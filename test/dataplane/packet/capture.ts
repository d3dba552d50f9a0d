/** Test-side capture from a PacketRing: copies frames out (tests may allocate) until enough match. */
import type { PacketRing } from '../../../src/dataplane/packet/ring.js';
import { readVnet, VnetHeader } from '../../../src/dataplane/packet/vnet.js';

export interface Captured {
  data: Buffer;
  len: number;
  snaplen: number;
  status: number;
  pktType: number;
  vlanTci: number;
  vlanTpid: number;
  vnet: VnetHeader | null;
}

export function readSlot(ring: PacketRing, slot: number): Captured {
  const off = ring.rxDataOffset(slot);
  const snaplen = ring.rxSnaplen(slot);
  const vnetOff = ring.rxVnetOffset(slot);
  return {
    data: Buffer.from(ring.buf.subarray(off, off + snaplen)),
    len: ring.rxLen(slot),
    snaplen,
    status: ring.rxStatus(slot),
    pktType: ring.rxPktType(slot),
    vlanTci: ring.rxVlanTci(slot),
    vlanTpid: ring.rxVlanTpid(slot),
    vnet: vnetOff >= 0 ? readVnet(ring.buf, vnetOff, new VnetHeader()) : null,
  };
}

/**
 * Resolves with the first `count` captured frames accepted by `match` (others are released and ignored),
 * or rejects after `timeoutMs` saying how many matched.
 */
export function capture(
  ring: PacketRing,
  match: (f: Captured) => boolean,
  count: number,
  timeoutMs = 5000,
): Promise<Captured[]> {
  return new Promise((resolve, reject) => {
    const got: Captured[] = [];
    const drain = () => {
      for (let slot = ring.rxNext(); slot >= 0; slot = ring.rxNext()) {
        const f = readSlot(ring, slot);
        ring.rxRelease(slot);
        if (got.length < count && match(f)) got.push(f);
      }
      if (got.length >= count) done(() => resolve(got));
    };
    const watcher = ring.watch(drain);
    const timer = setTimeout(
      () =>
        done(() => reject(new Error(`captured ${got.length} of ${count} matching frames on ${ring.ifname}`))),
      timeoutMs,
    );
    let finished = false;
    const done = (f: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      watcher.close();
      f();
    };
    drain();
  });
}

/** Copies `frame` into the next TX slot and commits it; returns whether it was queued. */
export function sendFrame(
  ring: PacketRing,
  frame: Uint8Array,
  vnet: Parameters<PacketRing['txCommit']>[2] = null,
): boolean {
  const slot = ring.txAcquire();
  if (slot < 0) return false;
  ring.buf.set(frame, ring.txDataOffset(slot));
  return ring.txCommit(slot, frame.length, vnet);
}
