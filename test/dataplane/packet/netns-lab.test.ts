import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootSkipReason } from '../../helpers/env.js';
import { createLab, run } from '../../helpers/netns.js';

const skip = rootSkipReason();

describe('the netns test lab', { skip: skip ?? false }, () => {
  test('builds namespaces, veths, a bridge and processes, and tears all of it down even after a failure', async () => {
    const lab = createLab();
    let child: ReturnType<typeof lab.spawn> | undefined;
    // The lab goes away even when an assertion fails before the cleanup under test (no leftovers for
    // the next test run).
    try {
      await assert.rejects(
        (async () => {
          const a = await lab.addNs('a');
          const b = await lab.addNs('b');
          const br = await lab.addNs('br');
          await lab.addVeth(
            { ns: a, name: 'eth0', addresses: ['10.76.0.1/24'], mtu: 1400 },
            { ns: br, name: 'pa' },
          );
          await lab.addVeth({ ns: b, name: 'eth0', addresses: ['10.76.0.2/24'] }, { ns: br, name: 'pb' });
          await lab.addBridge(br, 'br0', ['pa', 'pb']);
          // A root-namespace end, which only the prefix identifies.
          await lab.addVeth({ name: `${lab.prefix}r0` }, { ns: a, name: 'eth1' });
          const ping = await lab.exec(a, ['ping', '-c1', '-W2', '10.76.0.2']);
          assert.equal(ping.code, 0);
          const mtu = await lab.ip(a, ['-j', 'link', 'show', 'eth0']);
          assert.equal(JSON.parse(mtu.stdout)[0].mtu, 1400);
          child = lab.spawn(b, ['sleep', '60']);
          const left = await lab.leftovers();
          assert.deepEqual(left.namespaces.sort(), [a, b, br].sort());
          assert.deepEqual(left.links, [`${lab.prefix}r0`]);
          throw new Error('the test body fails here');
        })(),
        /the test body fails here/,
      );
    } catch (err) {
      await lab.cleanup();
      throw err;
    }
    await lab.cleanup();
    assert.deepEqual(await lab.leftovers(), { namespaces: [], links: [] });
    const exit = await child!.exited;
    assert.equal(exit.signal, 'SIGTERM', 'the process inside was stopped');
    const ns = await run(['ip', 'netns', 'list']);
    assert.equal(ns.stdout.includes(lab.prefix), false);
  });

  test('commands run through argv, so shell metacharacters are inert', async () => {
    const lab = createLab();
    try {
      const ns = await lab.addNs('x');
      const r = await lab.exec(ns, ['echo', '$(id) ; `true` | cat']);
      assert.equal(r.stdout.trim(), '$(id) ; `true` | cat');
      const failed = await lab.exec(ns, ['false'], { allowFailure: true });
      assert.equal(failed.code, 1);
      await assert.rejects(lab.exec(ns, ['false']), /failed/);
    } finally {
      await lab.cleanup();
    }
    assert.deepEqual(await lab.leftovers(), { namespaces: [], links: [] });
  });
});
