/**
 * XdpFastPath as the pipeline's forward observer (maps and program in this kernel, attached nowhere): a
 * Full-NAT connection whose client segments carry TOA until the real server answers is refused while
 * they do, tried again only every 64th segment, and offloaded once the segments are plain rewrites;
 * FIN takes it out again; an expiring session leaves the map. Root only (bpf(2)).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TS_OPTIONS, writeTcpFrame } from '../../../bench/pipeline/frames.js';
import { FAST_PATH_COUNTERS, XdpFastPath } from '../../../src/dataplane/xdp/fastpath.js';
import { parseIp } from '../../../src/engine/addr.js';
import { Balancer } from '../../../src/engine/balancer.js';
import { Forwarding } from '../../../src/engine/forwarding.js';
import { MutableFrame, Pipeline, Verdict } from '../../../src/engine/pipeline/index.js';
import { RecordingSink, type SentFrame } from '../../engine/pipeline/harness.js';
import { rootSkipReason } from '../../helpers/env.js';

const skip = rootSkipReason();
const D0 = 0x0200_0000_0d00;
const GW = 0x0200_0000_0ffe;
const RS_MAC = 0x0200_0000_0a0a;
const CLIENT = parseIp('192.0.2.77').words[0];
const VIP = parseIp('198.51.100.10').words[0];
const RS = parseIp('10.0.0.10').words[0];
const LIP = parseIp('10.0.0.200').words[0];

test('the fast path offloads a Full-NAT session once TOA stops, retries refusals with backoff, follows FIN and expiry', {
  skip: skip ?? false,
}, () => {
  const b = new Balancer({ conntable: { capacity: 64, seed: 3 }, localAddresses: [parseIp('10.0.0.200')] });
  const svc = b.services.add({
    name: 'web',
    protocol: 'tcp',
    address: parseIp('198.51.100.10'),
    port: 80,
    scheduler: 'rr',
    forwarding: Forwarding.FNAT,
  });
  svc.addDest({ address: parseIp('10.0.0.10'), port: 8080, weight: 1 });
  const log: SentFrame[] = [];
  const pipeline = new Pipeline(b, [new RecordingSink(0, log)], {
    interfaces: [
      {
        mac: D0,
        addresses: [
          { address: parseIp('10.0.0.1'), prefixLen: 24 },
          { address: parseIp('192.0.2.1'), prefixLen: 24 },
        ],
      },
    ],
    routes: [],
    staticNeighbours: [
      { address: parseIp('192.0.2.77'), mac: GW },
      { address: parseIp('10.0.0.10'), mac: RS_MAC },
    ],
  });
  pipeline.setServiceOptions(svc.id, { proxyProtocol: 0, toa: true });
  const fast = new XdpFastPath({
    mode: null,
    ports: [{ ifindex: 1, ifname: 'lo', mtu: 1500 }],
    conns: b.conns,
    services: b.services,
    dests: b.dests,
  });
  b.conns.onExpire = (id) => fast.forget(id);
  pipeline.setForwardObserver(fast);
  const count = (name: string) => fast.counters[FAST_PATH_COUNTERS.indexOf(name as never)]!;
  const frame = new MutableFrame();
  let now = 1000;
  let lport = 0;
  const send = (fromClient: boolean, seq: number, flags: number, payload = 20) => {
    const f = new Uint8Array(256);
    const len = writeTcpFrame(f, 0, {
      srcMac: fromClient ? GW : RS_MAC,
      dstMac: D0,
      src: fromClient ? CLIENT : RS,
      dst: fromClient ? VIP : LIP,
      sport: fromClient ? 40000 : 8080,
      dport: fromClient ? 80 : lport,
      seq,
      ack: 1,
      flags,
      payload,
      options: TS_OPTIONS,
    });
    log.length = 0;
    assert.equal(
      pipeline.process(frame.set(f, 0, len, 0, 0), now++),
      Verdict.FORWARD,
      `${pipeline.lastReason}`,
    );
    return log[0]!.bytes;
  };
  try {
    const syn = send(true, 100, 0x02, 0);
    lport = (syn[34]! << 8) | syn[35]!; // the source port Full-NAT chose
    send(false, 500, 0x12, 0);
    for (let i = 0; i < 70; i++) send(true, 101 + 20 * i, 0x18); // TOA in each: refused
    assert.equal(fast.installed, 0);
    assert.equal(count('xdp_refused_other'), 2, 'tried on the 1st and the 65th segment only');
    send(false, 501, 0x10, 0); // the real server answers: TOA stops; its direction goes to the map
    assert.equal(fast.installed, 1, 'the real server -> client direction');
    let tries = 0;
    while (fast.installed === 1 && tries < 64) send(true, 2000 + 20 * tries++, 0x18);
    assert.equal(fast.installed, 2, 'the client direction offloaded within one backoff period');
    assert.ok(tries > 1, 'not before the backoff ran out');
    assert.equal(count('xdp_installed'), 2);
    send(true, 5000, 0x11, 0); // FIN
    assert.equal(fast.installed, 0);
    assert.equal(count('xdp_removed'), 2);
    // A second connection on the same addresses (the first is in TIME_WAIT: the SYN reuses it), offloaded
    // as soon as it is established, leaves the map when its session expires.
    const syn2 = send(true, 9000, 0x02, 0);
    lport = (syn2[34]! << 8) | syn2[35]!;
    send(false, 700, 0x12, 0);
    send(false, 701, 0x10, 0);
    send(true, 9001, 0x18);
    assert.equal(fast.installed, 2, 'the second connection offloaded both ways');
    b.conns.expire(now + 10 * 60 * 60 * 1000);
    assert.equal(b.conns.count, 0);
    assert.equal(fast.installed, 0, 'expiry took it out of the map');
    assert.equal(count('xdp_removed'), 4);
  } finally {
    fast.close();
  }
});
