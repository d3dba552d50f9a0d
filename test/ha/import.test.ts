/**
 * keepalived.conf -> tslvs: the vrrp_instance blocks the interop tests run keepalived with translate to
 * exactly the tslvs instances the tests run tslvs with, so an imported config joins the same VRID.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/control/config/load.js';
import { importKeepalived } from '../../src/control/keepalived/import.js';
import { memoryReader } from '../../src/control/keepalived/source.js';
import { isolated } from '../control/config-helpers.js';
import { ADDR, keepalivedConfig, tslvsConfig } from './lab.js';

function imported(conf: string) {
  const result = importKeepalived(
    '/etc/keepalived/keepalived.conf',
    memoryReader({ '/etc/keepalived/keepalived.conf': conf }),
  );
  return parseConfigText(result.yaml, 'imported.yaml', isolated).config.ha.vrrp[0]!;
}

function written(yaml: string) {
  return parseConfigText(yaml, 'tslvs.yaml', isolated).config.ha.vrrp[0]!;
}

describe('import-keepalived for VRRP', () => {
  it('VRRPv2 multicast with PASS authentication', () => {
    const ka = imported(
      keepalivedConfig({ priority: 100, version: 2, advertInterval: 1, authPass: 's3cret' }),
    );
    const ts = written(tslvsConfig({ priority: 100, version: 2, advertInterval: '1s', authPass: 's3cret' }));
    for (const key of [
      'virtualRouterId',
      'priority',
      'version',
      'advertIntervalMs',
      'authPass',
      'unicastPeers',
      'virtualAddresses',
      'preempt',
    ] as const) {
      assert.deepEqual(ka[key], ts[key], key);
    }
    // keepalived's vrrp_garp_master_delay/repeat from global_defs reach the instance.
    assert.deepEqual(ka.garp, { repeat: 2, delayMs: 1000, refreshMs: 0 });
  });

  it('VRRPv3 unicast with sub-second adverts', () => {
    const ka = imported(
      keepalivedConfig({
        priority: 150,
        version: 3,
        advertInterval: 0.5,
        unicast: { src: ADDR.b, peers: [ADDR.a] },
      }),
    );
    assert.equal(ka.version, 3);
    assert.equal(ka.advertIntervalMs, 500);
    assert.deepEqual(
      ka.unicastPeers,
      written(tslvsConfig({ priority: 150, version: 3, advertInterval: '500ms', unicastPeers: [ADDR.a] }))
        .unicastPeers,
    );
    assert.equal(ka.unicastSource?.words[0], 0x0a090002);
  });

  it('notify scripts: per state as given, the generic one as `any`', () => {
    const conf = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.9.0.100/24
    }
    notify_master "/usr/local/bin/to-master --fast"
    notify_stop /usr/local/bin/stopped
    notify /etc/keepalived/notify.sh
}
`;
    const ka = imported(conf);
    assert.deepEqual(ka.notify, {
      master: ['/usr/local/bin/to-master', '--fast'],
      backup: null,
      fault: null,
      stop: ['/usr/local/bin/stopped'],
      any: ['/etc/keepalived/notify.sh'],
    });
  });
});
