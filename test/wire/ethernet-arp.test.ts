import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ARP_FRAME_LEN,
  ARP_LEN,
  ArpPacket,
  ArpRepr,
  writeArpReply,
  writeArpRequest,
  writeGratuitousArp,
} from '../../src/wire/arp.js';
import {
  formatMac,
  ipv4MulticastMac,
  ipv6MulticastMac,
  MAC_BROADCAST,
  parseMac,
} from '../../src/wire/bytes.js';
import { ETH_HEADER_LEN, EthernetFrame, EthernetRepr } from '../../src/wire/ethernet.js';
import { isReason, Reason } from '../../src/wire/reasons.js';
import { exact, fixture, fixtureNames, hex, ip4, mac, num, scapy } from './helpers.js';

const eth = new EthernetFrame();

test('every fixture: Ethernet fields, ethertype and payload offset match scapy', () => {
  for (const name of fixtureNames()) {
    if (name === 'vlan_triple') continue;
    const f = fixture(name);
    assert.equal(eth.reset(f, 0, f.length).check(), Reason.OK, name);
    const e = scapy(name, 'Ether');
    assert.equal(eth.dst, mac(e.fields.dst), name);
    assert.equal(eth.src, mac(e.fields.src), name);
    const tags = ['Dot1AD', 'Dot1Q'].flatMap((l) => {
      try {
        return [scapy(name, l)];
      } catch {
        return [];
      }
    });
    assert.equal(eth.vlanCount, tags.length, name);
    const last = tags.length ? tags.sort((a, b) => b.offset - a.offset)[0]! : e;
    assert.equal(eth.etherType, num(last, 'type'), name);
    assert.equal(eth.payloadOff, last.offset + (tags.length ? 4 : 14), name);
  }
});

test('802.1Q and QinQ: tag TCI/TPID and payload offset', () => {
  const q = fixture('vlan_8021q');
  eth.reset(q, 0, q.length);
  assert.equal(eth.check(), Reason.OK);
  const tag = scapy('vlan_8021q', 'Dot1Q');
  assert.equal(eth.vlanTci(0), (num(tag, 'prio') << 13) | (num(tag, 'id') << 12) | num(tag, 'vlan'));
  assert.equal(eth.vlanTpid(0), 0x8100);
  assert.equal(eth.payloadOff, scapy('vlan_8021q', 'IP').offset);
  const qq = fixture('vlan_qinq');
  eth.reset(qq, 0, qq.length);
  assert.equal(eth.check(), Reason.OK);
  assert.equal(eth.vlanCount, 2);
  assert.equal(eth.vlanTpid(0), 0x88a8);
  assert.equal(eth.vlanTci(0) & 0xfff, num(scapy('vlan_qinq', 'Dot1AD'), 'vlan'));
  assert.equal(eth.vlanTci(1) & 0xfff, num(scapy('vlan_qinq', 'Dot1Q'), 'vlan'));
  assert.equal(eth.payloadOff, scapy('vlan_qinq', 'IP').offset);
  const t = fixture('vlan_triple');
  assert.equal(eth.reset(t, 0, t.length).check(), Reason.TOO_MANY_VLAN_TAGS);
});

test('Ethernet truncated at every point is rejected with the right reason', () => {
  for (const name of ['udp_v4', 'vlan_8021q', 'vlan_qinq']) {
    const f = fixture(name);
    eth.reset(f, 0, f.length).check();
    const payloadOff = eth.payloadOff;
    for (let len = 0; len < payloadOff; len++) {
      const want = len < ETH_HEADER_LEN ? Reason.TRUNCATED_ETH : Reason.TRUNCATED_VLAN;
      assert.equal(eth.reset(exact(f, 0, len), 0, len).check(), want, `${name} cut at ${len}`);
    }
    assert.equal(eth.reset(exact(f, 0, payloadOff), 0, payloadOff).check(), Reason.OK);
  }
});

test('EthernetRepr parse/emit reproduces the header bytes, tags included', () => {
  for (const name of ['tcp_syn_v4', 'vlan_8021q', 'vlan_qinq', 'arp_request']) {
    const f = fixture(name);
    const repr = EthernetRepr.parse(eth.reset(f, 0, f.length));
    assert.ok(!isReason(repr), name);
    const out = f.slice();
    out.fill(0xee, 0, repr.bufferLen());
    repr.emit(eth.reset(out, 0, out.length));
    assert.equal(hex(out), hex(f), name);
    assert.deepEqual(EthernetRepr.parse(eth.reset(out, 0, out.length)), repr);
  }
});

test('MAC helpers', () => {
  assert.equal(formatMac(parseMac('00:00:5E:00:01:33')), '00:00:5e:00:01:33');
  assert.equal(parseMac('02-00-00-00-00-01'), 0x020000000001);
  assert.equal(parseMac('02:00:00:00:00'), -1);
  assert.equal(formatMac(ipv4MulticastMac(ip4('224.0.0.18'))), '01:00:5e:00:00:12');
  assert.equal(formatMac(ipv4MulticastMac(ip4('239.255.128.1'))), '01:00:5e:7f:80:01');
  assert.equal(formatMac(ipv6MulticastMac(0x12)), '33:33:00:00:00:12');
  assert.equal(formatMac(MAC_BROADCAST), 'ff:ff:ff:ff:ff:ff');
});

const arp = new ArpPacket();

function arpOf(name: string) {
  const f = fixture(name);
  const a = scapy(name, 'ARP');
  return { f, a, view: arp.reset(f, a.offset, f.length - a.offset) };
}

test('ARP fixtures: fields match scapy; Repr round trip reproduces the bytes', () => {
  for (const name of ['arp_request', 'arp_reply', 'arp_gratuitous_request', 'arp_gratuitous_reply']) {
    const { f, a, view } = arpOf(name);
    assert.equal(view.check(), Reason.OK);
    assert.equal(view.op, num(a, 'op'));
    assert.equal(view.senderMac, mac(a.fields.hwsrc));
    assert.equal(view.senderIp, ip4(a.fields.psrc));
    assert.equal(view.targetMac, mac(a.fields.hwdst));
    assert.equal(view.targetIp, ip4(a.fields.pdst));
    assert.equal(view.isGratuitous, name.includes('gratuitous'));
    const repr = ArpRepr.parse(view);
    assert.ok(!isReason(repr));
    const out = new Uint8Array(repr.bufferLen());
    repr.emit(arp.reset(out, 0, out.length));
    assert.equal(hex(out), hex(f.subarray(a.offset)));
  }
});

test('ARP builders write the scapy frames byte for byte', () => {
  const out = new Uint8Array(64).fill(0xaa);
  const req = arpOf('arp_request').a;
  assert.equal(
    writeArpRequest(out, 2, mac(req.fields.hwsrc), ip4(req.fields.psrc), ip4(req.fields.pdst)),
    ARP_FRAME_LEN,
  );
  assert.equal(hex(out.subarray(2, 2 + ARP_FRAME_LEN)), hex(fixture('arp_request')));
  assert.equal(out[1], 0xaa);
  assert.equal(out[2 + ARP_FRAME_LEN], 0xaa);
  const rep = arpOf('arp_reply').a;
  writeArpReply(
    out,
    0,
    mac(rep.fields.hwsrc),
    ip4(rep.fields.psrc),
    mac(rep.fields.hwdst),
    ip4(rep.fields.pdst),
  );
  assert.equal(hex(out.subarray(0, ARP_FRAME_LEN)), hex(fixture('arp_reply')));
  const g = arpOf('arp_gratuitous_request').a;
  writeGratuitousArp(out, 0, mac(g.fields.hwsrc), ip4(g.fields.psrc), { requestTargetMac: MAC_BROADCAST });
  assert.equal(hex(out.subarray(0, ARP_FRAME_LEN)), hex(fixture('arp_gratuitous_request')));
  writeGratuitousArp(out, 0, mac(g.fields.hwsrc), ip4(g.fields.psrc), { form: 'reply' });
  assert.equal(hex(out.subarray(0, ARP_FRAME_LEN)), hex(fixture('arp_gratuitous_reply')));
  // RFC 5227 announcement form: THA zero.
  writeGratuitousArp(out, 0, mac(g.fields.hwsrc), ip4(g.fields.psrc));
  assert.equal(arp.reset(out, ETH_HEADER_LEN, ARP_LEN).targetMac, 0);
});

test('ARP truncated, foreign formats and unknown ops are rejected', () => {
  const { f, a } = arpOf('arp_reply');
  for (let len = 0; len < ARP_LEN; len++) {
    assert.equal(arp.reset(exact(f, a.offset, len), 0, len).check(), Reason.TRUNCATED_ARP);
  }
  for (const [at, v] of [
    [1, 6],
    [3, 0xdd],
    [4, 8],
    [5, 16],
  ] as const) {
    const b = f.slice(a.offset);
    b[at] = v;
    assert.equal(arp.reset(b, 0, b.length).check(), Reason.UNSUPPORTED_ARP_FORMAT, `byte ${at}`);
  }
  const b = f.slice(a.offset);
  b[7] = 3; // RARP request
  assert.equal(arp.reset(b, 0, b.length).check(), Reason.BAD_ARP_OP);
});
