import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListFormat } from '../../src/cli/adm/command.js';
import {
  connectionLine,
  connectionsHeader,
  largenum,
  listService,
  saveRules,
  sortServices,
} from '../../src/cli/adm/format.js';
import type { ServiceView } from '../../src/control/api/views.js';

const PLAIN: ListFormat = {
  numeric: true,
  stats: false,
  rate: false,
  thresholds: false,
  persistentConn: false,
  exact: false,
  nosort: false,
};

function rs(
  address: string,
  over: Partial<ServiceView['realServers'][number]> = {},
): ServiceView['realServers'][number] {
  const zero = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
  return {
    address,
    config: { address },
    weight: 1,
    configuredWeight: 1,
    maxConnections: 0,
    lowerThreshold: 0,
    forwarding: 'dr',
    activeConns: 0,
    inactConns: 0,
    persistConns: 0,
    listed: true,
    overloaded: false,
    stats: zero,
    rates: { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 },
    health: {
      healthy: true,
      kind: 'none',
      state: 'up',
      checks: 0,
      consecutiveOk: 0,
      consecutiveFail: 0,
      since: null,
      lastCheck: null,
    },
    ...over,
  };
}

function svc(protocol: 'tcp' | 'udp', address: string, over: Partial<ServiceView> = {}): ServiceView {
  return {
    name: 'x',
    key: `${protocol}/${address}`,
    protocol,
    address,
    config: {},
    scheduler: { name: 'wlc', flags: [] },
    persistence: null,
    onePacket: false,
    up: true,
    stats: { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 },
    rates: { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 },
    realServers: [],
    ...over,
  };
}

describe('ipvsadm formats', () => {
  test('print_largenum: 9 columns, K/M/G/T past 10^8, --exact widens', () => {
    assert.equal(largenum(0, false), '        0');
    assert.equal(largenum(99_999_999, false), ' 99999999');
    assert.equal(largenum(100_000_000, false), '  100000K');
    assert.equal(largenum(999_999_999, false), '  999999K');
    assert.equal(largenum(1_000_000_000, false), '    1000M');
    assert.equal(largenum(123_456_789_012, false), '     123G');
    assert.equal(largenum(100_000_000_000_000, false), '     100T');
    assert.equal(largenum(12_345_678, true), ' 12345678');
    assert.equal(largenum(123_456_789_012, true), ' 123456789012');
  });

  test('IPv6 service and server names are not cut, and persistence masks print as prefix lengths', () => {
    const s = svc('tcp', '[2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:443', {
      scheduler: { name: 'mh', flags: ['mh-port'] },
      persistence: { timeoutSeconds: 360, prefixLength: 64 },
      realServers: [
        rs('[2001:db8:aaaa:bbbb:cccc:dddd:eeee:2]:8443', {
          forwarding: 'nat',
          weight: 5,
          configuredWeight: 5,
          activeConns: 12,
          inactConns: 3,
        }),
      ],
    });
    assert.equal(
      listService(s, PLAIN),
      'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:443 mh (mh-port) persistent 360 mask 64\n' +
        '  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:2]:8443 Masq    5      12         3         \n',
    );
    assert.equal(
      saveRules([s], PLAIN),
      '-A -t [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:443 -s mh -p 360 -M 64 -b mh-port\n' +
        '-a -t [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:443 -r [2001:db8:aaaa:bbbb:cccc:dddd:eeee:2]:8443 -m -w 5\n',
    );
  });

  // Expected lines computed with Python's printf (%-33s, %9d, %8dK...) from ipvsadm's format strings.
  test('--stats with large and exact numbers', () => {
    const s = svc('udp', '10.0.0.1:53', {
      stats: { conns: 5, inpkts: 250_000_000, outpkts: 7, inbytes: 2_000_000_000, outbytes: 0 },
      realServers: [
        rs('10.0.0.2:53', {
          stats: { conns: 5, inpkts: 250_000_000, outpkts: 7, inbytes: 2_000_000_000, outbytes: 0 },
        }),
      ],
    });
    assert.equal(
      listService(s, { ...PLAIN, stats: true }),
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        'UDP  10.0.0.1:53                         5  250000K        7    2000M        0\n' +
        '  -> 10.0.0.2:53                         5  250000K        7    2000M        0\n',
    );
    assert.equal(
      listService(s, { ...PLAIN, stats: true, exact: true }).split('\n')[2],
      'UDP  10.0.0.1:53                         5 250000000        7 2000000000        0',
    );
  });

  test('servers a failed check took out are not listed (not in the IPVS table), but are saved', () => {
    const s = svc('tcp', '10.0.0.1:80', {
      realServers: [rs('10.0.0.2:80'), rs('10.0.0.3:80', { listed: false })],
    });
    assert.doesNotMatch(listService(s, PLAIN), /10\.0\.0\.3/);
    assert.match(saveRules([s], PLAIN), /-r 10\.0\.0\.3:80 -g -w 1/);
  });

  test('services sort as libipvs does: af, protocol, wrapping address difference, port', () => {
    const order = sortServices([
      svc('udp', '10.0.0.1:53'),
      svc('tcp', '[::1]:80'),
      svc('tcp', '10.0.0.1:80'),
      svc('tcp', '192.168.0.1:80'),
      svc('tcp', '10.0.0.1:22'),
    ]).map((s) => `${s.protocol} ${s.address}`);
    assert.deepEqual(order, [
      'tcp 192.168.0.1:80',
      'tcp 10.0.0.1:22',
      'tcp 10.0.0.1:80',
      'udp 10.0.0.1:53',
      'tcp [::1]:80',
    ]);
  });

  test('the connection table lines', () => {
    assert.equal(
      connectionsHeader(PLAIN),
      'IPVS connection entries\npro expire state       source             virtual            destination\n',
    );
    const line = connectionLine({
      protocol: 'tcp',
      state: 'ESTABLISHED',
      expiresMs: 899_999,
      client: '192.0.2.7:51234',
      virtual: '10.0.0.1:80',
      realServer: '10.0.0.2:8080',
      local: null,
      forwarding: 'nat',
      template: false,
      service: 'x',
    });
    assert.equal(line, 'TCP 14:59  ESTABLISHED 192.0.2.7:51234    10.0.0.1:80        10.0.0.2:8080\n');
    const tmpl = connectionLine({
      protocol: 'udp',
      state: 'NONE',
      expiresMs: 300_000,
      client: '192.0.2.0:0',
      virtual: '10.0.0.1:53',
      realServer: '10.0.0.2:53',
      local: null,
      forwarding: 'dr',
      template: true,
      service: 'x',
    });
    assert.equal(tmpl, 'UDP 05:00  UDP         192.0.2.0:0        10.0.0.1:53        10.0.0.2:53\n');
  });
});
