/**
 * Interoperability with real keepalived (the Debian package): tslvs in one namespace, keepalived in
 * another, same VRID on one bridge. Each side preempts the other when it has the higher priority, and
 * each side's graceful stop (priority 0) hands the VIP to the other at once. VRRPv2 runs multicast with
 * PASS authentication, VRRPv3 runs unicast with sub-second adverts; neither side may reject a single
 * advert of the other. Root and keepalived only; bounded and cleaned up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootSkipReason } from '../helpers/env.js';
import {
  ADDR,
  createHaLab,
  type HaLab,
  isTransition,
  keepalivedConfig,
  keepalivedPath,
  timeOf,
  tslvsConfig,
  VIP,
  VIP6,
} from './lab.js';

const skip = rootSkipReason() ?? (keepalivedPath() ? null : 'keepalived is not installed');

async function eventually<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs}ms`);
    await sleep(50);
    v = await read();
  }
  return v;
}

/** keepalived's complaints about a peer's adverts (vrrp_check_packet) that must never appear. */
const KEEPALIVED_REJECTS = /invalid|mismatch|wrong|too (short|long)|not a unicast peer|Expected .*icast/i;

interface Variant {
  version: 2 | 3;
  /** Seconds (keepalived's advert_int). */
  advert: number;
  authPass?: string;
  unicast: boolean;
  ipv6?: boolean;
}

const variants: Variant[] = [
  { version: 2, advert: 1, authPass: 's3cret', unicast: false },
  { version: 3, advert: 0.5, unicast: true },
  { version: 3, advert: 0.5, unicast: false, ipv6: true },
];

for (const v of variants) {
  const mode = `${v.ipv6 ? 'IPv6 ' : ''}${v.unicast ? 'unicast' : 'multicast'}${v.authPass ? ', PASS authentication' : ''}`;
  const fam = v.ipv6 ? 6 : 4;
  const vip = v.ipv6 ? `${VIP6}/64` : `${VIP}/24`;
  describe(`tslvs and keepalived in one VRID (VRRPv${v.version}, ${mode})`, {
    skip: skip ?? false,
    timeout: 120_000,
  }, () => {
    let h: HaLab;
    before(async () => {
      h = await createHaLab({ ipv6: v.ipv6 ?? false });
    });
    after(async () => {
      await h?.cleanup();
    });

    // tslvs runs in a (10.9.0.1), keepalived in b (10.9.0.2).
    const tslvs = (priority: number) =>
      h.startTslvs(
        'a',
        tslvsConfig({
          priority,
          version: v.version,
          advertInterval: `${v.advert * 1000}ms`,
          vip,
          ...(v.authPass ? { authPass: v.authPass } : {}),
          ...(v.unicast ? { unicastPeers: [ADDR.b] } : {}),
        }),
      );
    const keepalived = (priority: number) =>
      h.startKeepalived(
        'b',
        keepalivedConfig({
          priority,
          version: v.version,
          advertInterval: v.advert,
          vip,
          ...(v.authPass ? { authPass: v.authPass } : {}),
          ...(v.unicast ? { unicast: { src: ADDR.b, peers: [ADDR.a] } } : {}),
        }),
      );
    const mdi = (priority: number) =>
      3 * v.advert * 1000 + ((256 - priority) * (v.version === 2 ? 1000 : v.advert * 1000)) / 256;
    const bound = (priority: number) => mdi(priority) + 3000;

    it('tslvs with the higher priority preempts keepalived; keepalived takes over at once on stop', async (t) => {
      const k = keepalived(100);
      await k.log.wait(/\(VI_1\) Entering MASTER STATE/, bound(100) + 5000);
      await eventually(
        () => h.addresses('b', fam),
        (x) => x.length === 1,
        3000,
        'keepalived adds the VIP',
      );
      const ts = tslvs(150);
      await ts.log.wait((l) => isTransition(l, 'master', 'preempt'), bound(150) + 5000);
      await k.log.wait(/Master received advert from \S+ with higher priority 150, ours 100/, 3000);
      await k.log.wait(/\(VI_1\) Entering BACKUP STATE/, 3000);
      await eventually(
        () => h.addresses('b', fam),
        (x) => x.length === 0,
        3000,
        'keepalived removes the VIP',
      );
      await eventually(
        () => h.addresses('a', fam),
        (x) => x.length === 1,
        3000,
        'tslvs adds the VIP',
      );
      const status = (await h.api('a', '/v1/ha/VI_1')) as {
        counters: { drops: Record<string, number>; advertsReceived: number };
      };
      assert.ok(status.counters.advertsReceived >= 1, 'tslvs heard keepalived');
      assert.deepEqual(
        Object.entries(status.counters.drops).filter(([, n]) => n > 0),
        [],
        'tslvs rejected none of keepalived adverts',
      );
      const fromK = k.log.lines.length;
      await ts.proc.stop(5000);
      const { line: resigned } = await ts.log.wait((l) => isTransition(l, 'init', 'shutdown'), 1000);
      await k.log.wait(/Backup received priority 0 advertisement/, 3000, fromK);
      await k.log.wait(/\(VI_1\) Entering MASTER STATE/, v.advert * 1000 + 2000, fromK);
      t.diagnostic(
        `keepalived master ${Date.now() - timeOf(resigned)} ms after tslvs resigned (seen by the test)`,
      );
      await eventually(
        () => h.addresses('b', fam),
        (x) => x.length === 1,
        3000,
        'keepalived takes the VIP back',
      );
      assert.deepEqual(await h.addresses('a', fam), [], 'tslvs released the VIP');
      assert.deepEqual(
        k.log.lines.filter((l) => KEEPALIVED_REJECTS.test(l)),
        [],
        'keepalived rejected none of the tslvs adverts',
      );
      await k.proc.stop(5000);
    });

    it('keepalived with the higher priority preempts tslvs; tslvs takes over at once on stop', async (t) => {
      const ts = tslvs(100);
      await ts.log.wait((l) => isTransition(l, 'master', 'master-down'), bound(100));
      const k = keepalived(150);
      await k.log.wait(/\(VI_1\) Entering MASTER STATE/, bound(150) + 5000);
      const fromTs = ts.log.lines.length;
      await ts.log.wait((l) => isTransition(l, 'backup', 'higher-priority'), 3000);
      await eventually(
        () => h.addresses('a', fam),
        (x) => x.length === 0,
        3000,
        'tslvs removes the VIP',
      );
      await eventually(
        () => h.addresses('b', fam),
        (x) => x.length === 1,
        3000,
        'keepalived adds the VIP',
      );
      const stoppedAt = Date.now();
      await k.proc.stop(5000);
      const { line } = await ts.log.wait(
        (l) => isTransition(l, 'master', 'master-resigned'),
        v.advert * 1000 + 3000,
        fromTs,
      );
      t.diagnostic(`tslvs master ${timeOf(line) - stoppedAt} ms after SIGTERM to keepalived`);
      await eventually(
        () => h.addresses('a', fam),
        (x) => x.length === 1,
        3000,
        'tslvs takes the VIP',
      );
      const status = (await h.api('a', '/v1/ha/VI_1')) as {
        counters: { drops: Record<string, number>; priorityZeroReceived: number };
      };
      assert.equal(status.counters.priorityZeroReceived, 1);
      assert.deepEqual(
        Object.entries(status.counters.drops).filter(([, n]) => n > 0),
        [],
        'tslvs rejected none of keepalived adverts',
      );
      assert.deepEqual(
        k.log.lines.filter((l) => KEEPALIVED_REJECTS.test(l)),
        [],
      );
      assert.ok(ts.log.lines.some((l) => isTransition(l, 'master')));
      await ts.proc.stop(5000);
    });
  });
}
