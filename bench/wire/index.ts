/**
 * Micro-benchmark of the wire layer's per-packet work: Ethernet + IPv4 + TCP view checks followed by a
 * NAT rewrite (destination address and port) with incremental checksum updates, and the full checksum
 * of a 1500-byte packet for comparison. `npm run bench -- wire [seconds-per-case]`.
 */

import { checksumOk, onesSum } from '../../src/wire/checksum.js';
import { EthernetFrame, EtherType } from '../../src/wire/ethernet.js';
import { IpProto, Ipv4Packet, Ipv4Repr } from '../../src/wire/ipv4.js';
import { Reason } from '../../src/wire/reasons.js';
import { TcpFlag, TcpPacket } from '../../src/wire/tcp.js';
import { TcpRepr } from '../../src/wire/tcp-repr.js';

function buildFrame(payloadLen: number): Uint8Array {
  const tcp = new TcpRepr({
    srcPort: 51000,
    dstPort: 80,
    seq: 1,
    ack: 1,
    flags: TcpFlag.ACK | TcpFlag.PSH,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', tsVal: 1, tsEcr: 2 }],
    payloadLen,
  });
  const ip = new Ipv4Repr({
    src: 0xc0000201,
    dst: 0xc633640a,
    protocol: IpProto.TCP,
    payloadLen: tcp.bufferLen(),
    dontFrag: true,
  });
  const f = new Uint8Array(14 + ip.bufferLen());
  f[12] = EtherType.IPV4 >> 8;
  const ipv = new Ipv4Packet(f, 14, ip.bufferLen());
  ip.emit(ipv);
  for (let i = 14 + ip.headerLen() + tcp.headerLen(); i < f.length; i++) f[i] = i & 255;
  tcp.emit(new TcpPacket(f, 14 + ip.headerLen(), tcp.bufferLen()), ipv.pseudoSum());
  return f;
}

/** Runs `fn(count)` in growing batches until `seconds` have passed; returns operations per second. */
function rate(seconds: number, fn: (count: number) => void): number {
  let batch = 10_000;
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000 && done < 2e9) {
    fn(batch);
    done += batch;
    elapsed = performance.now() - start;
    if (elapsed < 100) batch *= 2;
  }
  return done / (elapsed / 1000);
}

export async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 2);
  const frame = buildFrame(100);
  const eth = new EthernetFrame();
  const ip = new Ipv4Packet();
  const tcp = new TcpPacket();
  const rs = [0x0a000002, 0x0a000003];
  let drops = 0;

  const checkAndNat = (count: number) => {
    for (let i = 0; i < count; i++) {
      eth.reset(frame, 0, frame.length);
      if (eth.check() !== Reason.OK || eth.etherType !== EtherType.IPV4) {
        drops++;
        continue;
      }
      ip.reset(frame, eth.payloadOff, eth.payloadLen);
      if (ip.check() !== Reason.OK || ip.protocol !== IpProto.TCP) {
        drops++;
        continue;
      }
      tcp.reset(frame, ip.payloadOff, ip.payloadLen);
      if (tcp.check() !== Reason.OK) {
        drops++;
        continue;
      }
      const oldDst = ip.dst;
      const newDst = rs[i & 1]!;
      ip.rewriteDst(newDst);
      tcp.updateChecksumPseudo32(oldDst, newDst, false);
      tcp.rewriteDstPort(8080 + (i & 1), false);
    }
  };
  const perPacket = rate(seconds, checkAndNat);
  // The result must still verify: the benchmark measures correct work.
  ip.reset(frame, 14, frame.length - 14);
  tcp.reset(frame, ip.payloadOff, ip.payloadLen);
  if (drops !== 0 || !ip.verifyChecksum() || !tcp.verifyChecksum(ip.pseudoSum()))
    throw new Error('benchmark frame got corrupted');

  const big = buildFrame(1448).subarray(14);
  let sink = 0;
  const fullSum = rate(seconds, (count) => {
    for (let i = 0; i < count; i++) sink += onesSum(big, 0, big.length) & 1;
  });
  const verify = rate(seconds, (count) => {
    for (let i = 0; i < count; i++) sink += +checksumOk(big, 20, big.length - 20, 0);
  });

  console.log(
    `Ethernet+IPv4+TCP check + DNAT (addr+port, incremental checksums), ${frame.length}-byte frame`,
  );
  console.log(`  ${(perPacket / 1e6).toFixed(2)} M packets/s (${(1e9 / perPacket).toFixed(1)} ns/packet)`);
  console.log(
    `Full ones'-complement sum over ${big.length} bytes: ${(fullSum / 1e6).toFixed(3)} M/s, ${((fullSum * big.length) / 1e9).toFixed(2)} GB/s`,
  );
  console.log(`(sink ${sink & 1}, verify rate ${(verify / 1e6).toFixed(3)} M/s)`);
  console.log(`RESULT wire_ipv4_tcp_check_per_s=${Math.round(perPacket)} packets/s`);
  console.log(`RESULT wire_csum_1500B_per_s=${Math.round(fullSum)} sums/s`);
}
