/**
 * Full-NAT behind a PROXY header in the XDP fast path (fastpath-seq.ts, seq-shift.ts): after the pipeline
 * has put the header in front of the client's first byte, the program shifts later client sequence
 * numbers up and real-server acknowledgments down by its length exactly as the pipeline does (compared
 * frame for frame, IPv4 and IPv6), and leaves to the pipeline the first byte again, bytes before it,
 * acknowledgments of part of the header and SACK blocks. Root only (bpf(2)).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Bpf, XdpAction } from '../../../src/dataplane/xdp/bpf.js';
import { ACK_OUT, SEQ_IN, VAL } from '../../../src/dataplane/xdp/fastpath-prog.js';
import { offloadEntry } from '../../../src/dataplane/xdp/offload-entry.js';
import { offloadEntry6 } from '../../../src/dataplane/xdp/offload-entry6.js';
import { toHex } from '../../engine/pipeline/harness.js';
import { rootSkipReason } from '../../helpers/env.js';
import {
  CLIENT6,
  director6,
  entryBuffers,
  GW,
  loadFastPath,
  RS_MAC,
  RS6,
  tcp6Frame,
  VIP6,
} from './directors.js';
import { fnatDirector, type Seg } from './fnat-director.js';

const skip = rootSkipReason();
const LO = 1;

describe('XDP fast path, Full-NAT behind a PROXY header', { skip: skip ?? false }, () => {
  let fp: ReturnType<typeof loadFastPath>;
  let bpf: Bpf;
  let map = -1;
  let map6 = -1;
  let prog = -1;
  const { key, value, key6, value6 } = entryBuffers();
  before(() => {
    fp = loadFastPath();
    ({ bpf, map, map6, prog } = fp);
  });
  after(() => fp.close());

  test('Full-NAT behind a PROXY header: sequence and acknowledgment shifted as the pipeline shifts them', () => {
    const d = fnatDirector({ proxyProtocol: 2, toa: false });
    const isn = 1001;
    d.send(true, { seq: 1000, flags: 0x02, payload: 0 });
    d.send(false, { seq: 5000, ack: 1001, flags: 0x12, payload: 0 });
    d.send(true, { seq: 1001, ack: 5001, flags: 0x10, payload: 0 });
    const first = d.send(true, { seq: 1001, ack: 5001, flags: 0x18, payload: 20 });
    const shift = first.length - d.segment(true, { seq: 1001, ack: 5001, flags: 0x18, payload: 20 }).length;
    assert.ok(shift > 0, 'the PROXY header went in front of the first byte');
    const entry = (inp: Uint8Array, out: Uint8Array) =>
      offloadEntry(inp, 0, inp.length, out, 0, out.length, LO, 1500, isn, key, value);
    // Real server -> client: acknowledgments come back down by the header's length.
    const rsAck = d.segment(false, { seq: 5001, ack: isn + 20 + shift, flags: 0x10, payload: 0 });
    assert.equal(entry(rsAck, d.forward(rsAck)), 0, 'RS -> client entry');
    assert.equal(value[VAL.FLAGS]! & ACK_OUT, ACK_OUT);
    bpf.mapUpdate(map, key, value);
    // Client -> real server: sequence numbers go up by it.
    const data2 = d.segment(true, { seq: isn + 20, ack: 5001, flags: 0x18, payload: 20 });
    assert.equal(entry(data2, d.forward(data2)), 0, 'client -> RS entry');
    assert.equal(value[VAL.FLAGS]! & SEQ_IN, SEQ_IN);
    bpf.mapUpdate(map, key, value);
    const later: [boolean, Seg][] = [
      [true, { seq: isn + 40, ack: 5001, flags: 0x18, payload: 100 }],
      [true, { seq: isn + 140, ack: 5101, flags: 0x10, payload: 0 }],
      [false, { seq: 5001, ack: isn + 140 + shift, flags: 0x18, payload: 100 }],
      [false, { seq: 5101, ack: isn + 141 + shift, flags: 0x10, payload: 0, options: new Uint8Array(0) }],
    ];
    for (const [fromClient, s] of later) {
      const f = d.segment(fromClient, s);
      const want = d.forward(f);
      const { action, output } = bpf.testRun(prog, f, LO);
      assert.equal(action, XdpAction.TX, `${fromClient ? 'client' : 'RS'} seq ${s.seq}`);
      assert.equal(
        toHex(output),
        toHex(want),
        `${fromClient ? 'client' : 'RS'} seq ${s.seq}: the pipeline's frame`,
      );
    }
    // What only the pipeline may do: the first byte again (it needs the header again), anything before
    // it, an acknowledgment of part of the header, and SACK blocks (their edges shift too).
    const sack = Uint8Array.of(1, 1, 5, 10, 0, 0, 0x04, 0x10, 0, 0, 0x04, 0x30);
    const leftAlone: [string, boolean, Seg][] = [
      ['the first segment again', true, { seq: isn, ack: 5001, flags: 0x18, payload: 20 }],
      ['before the first byte', true, { seq: isn - 1, ack: 5001, flags: 0x10, payload: 0 }],
      [
        'part of the header acknowledged',
        false,
        { seq: 5001, ack: isn + shift - 1, flags: 0x10, payload: 0 },
      ],
      ['SACK', false, { seq: 5001, ack: isn + 40 + shift, flags: 0x10, payload: 0, options: sack }],
    ];
    for (const [what, fromClient, s] of leftAlone) {
      const f = d.segment(fromClient, s);
      const { action, output } = bpf.testRun(prog, f, LO);
      assert.equal(action, XdpAction.PASS, what);
      assert.equal(toHex(output), toHex(f), `${what}: untouched`);
    }
    bpf.mapDelete(map, key);
  });

  test('IPv6 Full-NAT behind a PROXY header: the same shifts', () => {
    const d = director6('fnat', 2);
    const isn = 1001;
    const seg = (fromClient: boolean, seq: number, ack: number, flags: number, payload: number) =>
      tcp6Frame(
        fromClient
          ? { srcMac: GW, src: CLIENT6, dst: VIP6, sport: 40000, dport: 80, seq, ack, flags, payload }
          : {
              srcMac: RS_MAC,
              src: RS6,
              dst: d.back(),
              sport: 8080,
              dport: d.backPort(),
              seq,
              ack,
              flags,
              payload,
            },
      );
    d.forward(seg(true, 1000, 0, 0x02, 0));
    d.forward(seg(false, 5000, 1001, 0x12, 0));
    d.forward(seg(true, 1001, 5001, 0x10, 0));
    const first = d.forward(seg(true, isn, 5001, 0x18, 20));
    const shift = first.length - seg(true, isn, 5001, 0x18, 20).length;
    assert.ok(shift > 0, 'the PROXY header went in front of the first byte');
    const keys: Uint8Array[] = [];
    const install = (sample: Uint8Array, flag: number) => {
      const out = d.forward(sample);
      assert.equal(
        offloadEntry6(sample, 0, sample.length, out, 0, out.length, LO, 1500, isn, key6, value6),
        0,
      );
      assert.equal(value6[VAL.FLAGS]! & flag, flag);
      bpf.mapUpdate(map6, key6, value6);
      keys.push(key6.slice());
    };
    install(seg(false, 5001, isn + 20 + shift, 0x10, 0), ACK_OUT);
    install(seg(true, isn + 20, 5001, 0x18, 20), SEQ_IN);
    for (const f of [seg(true, isn + 40, 5001, 0x18, 100), seg(false, 5001, isn + 140 + shift, 0x18, 60)]) {
      const want = d.forward(f);
      const { action, output } = bpf.testRun(prog, f, LO);
      assert.equal(action, XdpAction.TX);
      assert.equal(toHex(output), toHex(want), "the pipeline's frame");
    }
    assert.equal(
      bpf.testRun(prog, seg(true, isn, 5001, 0x18, 20), LO).action,
      XdpAction.PASS,
      'the first byte again',
    );
    const early = seg(false, 5001, isn + shift - 1, 0x10, 0);
    assert.equal(bpf.testRun(prog, early, LO).action, XdpAction.PASS, 'part of the header acknowledged');
    for (const k of keys) bpf.mapDelete(map6, k);
  });
});
