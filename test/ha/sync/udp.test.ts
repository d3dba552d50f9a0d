/**
 * Session sync over real UDP sockets on 127.0.0.1: two engines, the master's sessions arrive at the backup
 * through node:dgram; a listen address in use is a clear ENVIRONMENT error naming it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEndpoint } from '../../../src/engine/addr.js';
import { Forwarding } from '../../../src/engine/forwarding.js';
import { ErrorCodes, TslvsError } from '../../../src/errors.js';
import { SessionSync } from '../../../src/ha/sync/session-sync.js';
import { UdpSyncSocket } from '../../../src/ha/sync/socket.js';
import { balancerStore } from '../../../src/ha/sync/store.js';
import { addService, flow, makeBalancer } from '../../engine/helpers.js';
import { waitFor } from '../../helpers/daemon.js';

test('sessions travel over UDP on loopback; a busy listen address is refused with its name', async () => {
  const sa = await UdpSyncSocket.open(parseEndpoint('127.0.0.1:0', { allowZeroPort: true }));
  const sb = await UdpSyncSocket.open(parseEndpoint('127.0.0.1:0', { allowZeroPort: true }));
  const dests = [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }];
  const a = makeBalancer();
  const b = makeBalancer();
  const svc = addService(a, { forwarding: Forwarding.DR, dests });
  addService(b, { forwarding: Forwarding.DR, dests });
  const opts = (me: number, peer: number) => ({
    listen: parseEndpoint(`127.0.0.1:${me}`),
    peers: [parseEndpoint(`127.0.0.1:${peer}`)],
    key: 'loopback-sync-key!',
    refreshIntervalMs: 30_000,
    snapshotWaitMs: 2000,
  });
  const syncA = new SessionSync(opts(sa.port, sb.port), balancerStore(a, null), sa, () => performance.now());
  const syncB = new SessionSync(opts(sb.port, sa.port), balancerStore(b, null), sb, () => performance.now());
  try {
    syncA.setRole(true);
    for (let i = 0; i < 100; i++) a.schedule(svc.id, flow('203.0.113.50', 30_000 + i), performance.now());
    syncA.tick(performance.now());
    await waitFor('the backup to install every session', () => b.conns.count === 100, 5000);
    // Asking for a snapshot brings the whole table (the same sessions again, as one stream).
    syncB.requestSnapshot(performance.now());
    await waitFor(
      'a snapshot answer',
      () => {
        syncA.tick(performance.now());
        syncB.tick(performance.now());
        return syncB.snapshotState !== 'waiting';
      },
      5000,
    );
    assert.equal(syncB.snapshotState, 'done');
    assert.equal(syncB.status(performance.now()).snapshot.received, 100);
    await assert.rejects(UdpSyncSocket.open(parseEndpoint(`127.0.0.1:${sa.port}`)), (e: unknown) => {
      assert.ok(e instanceof TslvsError);
      assert.equal(e.code, ErrorCodes.ENVIRONMENT);
      assert.match(e.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${sa.port}`));
      return true;
    });
  } finally {
    await syncA.close();
    await syncB.close();
  }
});
