/**
 * A one-interface Full-NAT director for the fast-path tests: client 192.0.2.77:40000 -> VIP
 * 198.51.100.10:80, real server 10.0.0.10:8080, local address 10.0.0.200. `segment` builds a TCP
 * segment (timestamps option, or the bytes given) either way; `forward` runs one through the pipeline
 * and returns the frame it sent.
 */
import assert from 'node:assert/strict';
import { TS_OPTIONS, writeTcpFrame } from '../../../bench/pipeline/frames.js';
import { parseIp } from '../../../src/engine/addr.js';
import { Balancer } from '../../../src/engine/balancer.js';
import { Forwarding, type ForwardingMethod } from '../../../src/engine/forwarding.js';
import { MutableFrame, Pipeline, Verdict } from '../../../src/engine/pipeline/index.js';
import { RecordingSink, type SentFrame } from '../../engine/pipeline/harness.js';

const D0 = 0x0200_0000_0d00;
const GW = 0x0200_0000_0ffe;
const RS_MAC = 0x0200_0000_0a0a;

export interface Seg {
  seq: number;
  ack?: number;
  flags: number;
  payload?: number;
  options?: Uint8Array;
}

/** `forwarding`: the service's method (Full-NAT unless given; the segments are Full-NAT's either way). */
export function fnatDirector(o: { proxyProtocol: 0 | 1 | 2; toa: boolean; forwarding?: ForwardingMethod }) {
  const balancer = new Balancer({
    conntable: { capacity: 64, seed: 3 },
    localAddresses: [parseIp('10.0.0.200')],
  });
  const svc = balancer.services.add({
    name: 'web',
    protocol: 'tcp',
    address: parseIp('198.51.100.10'),
    port: 80,
    scheduler: 'rr',
    forwarding: o.forwarding ?? Forwarding.FNAT,
  });
  svc.addDest({ address: parseIp('10.0.0.10'), port: 8080, weight: 1 });
  const log: SentFrame[] = [];
  const pipeline = new Pipeline(balancer, [new RecordingSink(0, log)], {
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
  pipeline.setServiceOptions(svc.id, { proxyProtocol: o.proxyProtocol, toa: o.toa });
  const frame = new MutableFrame();
  let now = 1000;
  let lport = 0;
  const segment = (fromClient: boolean, s: Seg): Uint8Array => {
    const f = new Uint8Array(256);
    const len = writeTcpFrame(f, 0, {
      srcMac: fromClient ? GW : RS_MAC,
      dstMac: D0,
      src: parseIp(fromClient ? '192.0.2.77' : '10.0.0.10').words[0],
      dst: parseIp(fromClient ? '198.51.100.10' : '10.0.0.200').words[0],
      sport: fromClient ? 40000 : 8080,
      dport: fromClient ? 80 : lport,
      seq: s.seq,
      ack: s.ack ?? 1,
      flags: s.flags,
      payload: s.payload ?? 20,
      options: s.options ?? TS_OPTIONS,
    });
    return f.slice(0, len);
  };
  const forward = (f: Uint8Array): Uint8Array => {
    log.length = 0;
    const v = pipeline.process(frame.set(f.slice(), 0, f.length, 0, 0), now++);
    assert.equal(v, Verdict.FORWARD, `pipeline verdict (reason ${pipeline.lastReason})`);
    const out = log[0]!.bytes;
    if (f[47]! & 0x02 && !(f[47]! & 0x10)) lport = (out[34]! << 8) | out[35]!; // the port Full-NAT chose
    return out;
  };
  return {
    balancer,
    pipeline,
    segment,
    forward,
    /** segment + forward. */
    send: (fromClient: boolean, s: Seg) => forward(segment(fromClient, s)),
    advance: (ms: number) => {
      now += ms;
      return now;
    },
  };
}
