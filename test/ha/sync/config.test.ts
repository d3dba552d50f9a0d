/**
 * `ha.sync` in the config: defaults, the followed VRRP instance checked by name, a warning without any
 * VRRP instance, and the raw-config round trip the admin API edits through.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/control/config/load.js';
import { configToRaw, validateRawConfig } from '../../../src/control/config/raw.js';
import { ErrorCodes, TslvsError } from '../../../src/errors.js';

const ctx = { env: {}, readSecretFile: () => '' };
const VRRP = `  vrrp:
    - { name: VI_1, interface: eth0, virtualRouterId: 51, virtualAddresses: [10.0.0.100/32] }
    - { name: VI_2, interface: eth0, virtualRouterId: 52, virtualAddresses: [10.0.0.101/32] }
`;
const sync = (extra = '') =>
  `  sync: { listen: 10.0.1.1:8848, peers: [10.0.1.2:8848], key: 0123456789abcdef${extra} }\n`;

test('ha.sync: defaults, and every new key as written', () => {
  const a = parseConfigText(`ha:\n${VRRP}${sync()}`, 't.yaml', ctx);
  assert.deepEqual(a.warnings, []);
  assert.equal(a.config.ha.sync?.instance, null);
  assert.equal(a.config.ha.sync?.refreshIntervalMs, 30_000);
  assert.equal(a.config.ha.sync?.snapshotWaitMs, 3000);
  const b = parseConfigText(
    `ha:\n${VRRP}${sync(', instance: VI_2, refreshInterval: 5s, snapshotWait: 0s')}`,
    't.yaml',
    ctx,
  );
  assert.equal(b.config.ha.sync?.instance, 'VI_2');
  assert.equal(b.config.ha.sync?.refreshIntervalMs, 5000);
  assert.equal(b.config.ha.sync?.snapshotWaitMs, 0);
  for (const c of [a.config, b.config])
    assert.deepEqual(validateRawConfig(configToRaw(c), 'raw', ctx).config, c);
});

test('ha.sync: an unknown instance is an error where it is written; no VRRP at all is a warning', () => {
  assert.throws(
    () => parseConfigText(`ha:\n${VRRP}${sync(', instance: VI_9')}`, 't.yaml', ctx),
    (e: unknown) => {
      assert.ok(e instanceof TslvsError);
      assert.equal(e.code, ErrorCodes.CONFIG);
      assert.match(e.message, /t\.yaml:\d+:\d+: ha\.sync\.instance: no VRRP instance is named 'VI_9'/);
      return true;
    },
  );
  assert.throws(() => parseConfigText(`ha:\n${VRRP}${sync(', refreshInterval: 10ms')}`, 't.yaml', ctx));
  const lone = parseConfigText(`ha:\n${sync()}`, 't.yaml', ctx);
  assert.match(lone.warnings.map((w) => w.message).join('\n'), /never becomes the sync master/);
});
