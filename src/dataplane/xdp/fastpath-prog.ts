/**
 * The XDP fast path's program and its session map layout. The pipeline stays the director: it schedules,
 * tracks state and decides. Once a session's packets are plain header rewrites (an established TCP
 * connection or a UDP flow, no header insertion and no sequence translation), the data plane copies
 * what the pipeline did to one packet into the map, and this program applies the same rewrite to the rest
 * of that direction of the session in the driver, before any socket buffer exists: the idea of DPVS's
 * flow offload and of the kernel's nf_flowtable, done as Katran does it (one map lookup per packet).
 *
 * Per packet: untagged Ethernet, IPv4 without options or fragments, TTL above 1, lengths consistent,
 * TCP without SYN/FIN/RST (state changes stay with the pipeline) or UDP; then the session map by
 * (saddr, daddr, sport, dport, proto). A hit decrements the TTL, writes the new addresses and ports,
 * updates both checksums by the precomputed RFC 1624 deltas (a zero UDP checksum stays zero), sets the
 * MACs, counts, and sends the frame out (XDP_TX on the same interface, bpf_redirect to
 * another). Everything else goes on (XDP_PASS) to the kernel and the AF_PACKET ring, i.e. to the pipeline.
 * Checksums are updated, not verified: a corrupt segment stays corrupt and its receiver drops it, as with
 * IPVS, which does not verify on forward either. IPv6 frames branch off to fastpath-prog6.ts.
 */
import { FP, Program, type Reg, Size } from './asm.js';
import { ipv6Path } from './fastpath-prog6.js';
import { shiftSequence } from './fastpath-seq.js';

/** Session key: addresses and ports exactly as on the wire, then the protocol. */
export const KEY = Object.freeze({ SADDR: 0, DADDR: 4, SPORT: 8, DPORT: 10, PROTO: 12, LEN: 16 });

/** Session value. Addresses, ports and MACs as on the wire; counters native-endian u64. */
export const VAL = Object.freeze({
  FLAGS: 0,
  IFINDEX: 4,
  DMAC: 8,
  SMAC: 14,
  SADDR: 20,
  DADDR: 24,
  SPORT: 28,
  DPORT: 30,
  /** Unfolded ones'-complement sum added to the IPv4 header checksum (address and TTL changes). */
  IP_DELTA: 32,
  /** The same for the TCP/UDP checksum (pseudo-header addresses and ports). */
  L4_DELTA: 36,
  PACKETS: 40,
  BYTES: 48,
  /** SEQ_IN / ACK_OUT: the Full-NAT sequence shift (PROXY header length) and the client's first data
   * sequence number, host-order u32. */
  SEQ_DELTA: 56,
  ISN: 60,
  /** ENCAP: the outer header's addresses (wire order), its TTL (0: the inner packet's); every entry: the
   * output MTU (LE u16), which the program compares with the IP total length. */
  OUTER_SADDR: 64,
  OUTER_DADDR: 68,
  OUTER_TTL: 72,
  MTU: 74,
  /** Not read by the program: the manager's slot of the entry (LE u32), for the batched read-back. */
  SLOT: 76,
  LEN: 80,
});

/** VAL.FLAGS: addresses/ports are rewritten (NAT, Full-NAT); without it only MACs and TTL change (DR). */
export const REWRITE = 1;
/** VAL.FLAGS: the TTL is decremented (the pipeline's decrementTtl policy). */
export const DEC_TTL = 2;
/** VAL.FLAGS: IP-in-IP to the real server (TUN): an outer IPv4 header goes in front. */
export const ENCAP = 4;
/** VAL.FLAGS: Full-NAT with a PROXY header, client -> RS: sequence numbers after the ISN + SEQ_DELTA. */
export const SEQ_IN = 8;
/** VAL.FLAGS: the same, RS -> client: acknowledgments at or past ISN + SEQ_DELTA, - SEQ_DELTA. */
export const ACK_OUT = 16;

const ETH = 14;
const IP = ETH;
const L4 = ETH + 20;
export const HELPER_MAP_LOOKUP = 1;
const HELPER_PRANDOM = 7;
const HELPER_REDIRECT = 23;
const HELPER_ADJUST_HEAD = 44;
const XDP_ABORTED = 0;
const XDP_PASS = 2;
const XDP_TX = 3;

// Registers: r6 ctx, r7 session value, r8 packet start, r9 packet end (callee-saved across helpers).
const CTX: Reg = 6;
export const VALUE: Reg = 7;
export const DATA: Reg = 8;
const END: Reg = 9;

/** The program for the IPv4 session map `sessionsFd` and the IPv6 one `sessions6Fd` (fastpath-prog6.ts). */
export function fastPathProgram(sessionsFd: number, sessions6Fd: number): Program {
  const p = new Program();
  p.movReg(CTX, 1);
  p.load(Size.W, DATA, CTX, 0);
  p.load(Size.W, END, CTX, 4);
  needBytes(p, L4 + 8);
  p.load(Size.H, 2, DATA, 12).jmp('jeq', 2, 0xdd86, 'ipv6'); // EtherType IPv6 (read little-endian)
  p.jmp('jne', 2, 0x0008, 'pass'); // IPv4
  p.load(Size.B, 2, DATA, IP).jmp('jne', 2, 0x45, 'pass'); // version 4, no options
  p.load(Size.H, 2, DATA, IP + 6)
    .alu('and', 2, 0xff3f)
    .jmp('jne', 2, 0, 'pass'); // MF, offset
  p.load(Size.B, 2, DATA, IP + 8).jmp('jle', 2, 1, 'pass'); // TTL: time exceeded is the pipeline's
  // The IP total length must fit the frame (Ethernet padding may follow it).
  p.load(Size.H, 3, DATA, IP + 2).toBe(3, 16);
  p.jmp('jlt', 3, 28, 'pass');
  p.movReg(4, DATA).alu('add', 4, IP).aluReg('add', 4, 3).jmpReg('jgt', 4, END, 'pass');
  p.load(Size.B, 5, DATA, IP + 9);
  p.jmp('jeq', 5, 6, 'tcp').jmp('jne', 5, 17, 'pass');
  // UDP: its length must be the IP payload's.
  p.load(Size.H, 2, DATA, L4 + 4).toBe(2, 16);
  p.movReg(4, 3).alu('sub', 4, 20).jmpReg('jne', 2, 4, 'pass');
  p.goto('key');
  p.label('tcp');
  needBytes(p, L4 + 20);
  p.load(Size.B, 2, DATA, L4 + 12)
    .alu('rsh', 2, 4)
    .jmp('jlt', 2, 5, 'pass');
  p.alu('lsh', 2, 2).movReg(4, 3).alu('sub', 4, 20).jmpReg('jgt', 2, 4, 'pass');
  p.load(Size.B, 2, DATA, L4 + 13)
    .alu('and', 2, 0x07)
    .jmp('jne', 2, 0, 'pass'); // FIN, SYN, RST
  p.label('key');
  p.load(Size.W, 2, DATA, IP + 12).store(Size.W, FP, -16 + KEY.SADDR, 2);
  p.load(Size.W, 2, DATA, IP + 16).store(Size.W, FP, -16 + KEY.DADDR, 2);
  p.load(Size.W, 2, DATA, L4).store(Size.W, FP, -16 + KEY.SPORT, 2);
  p.store(Size.W, FP, -16 + KEY.PROTO, 5);
  p.loadMapFd(1, sessionsFd).movReg(2, FP).alu('add', 2, -16).call(HELPER_MAP_LOOKUP);
  p.jmp('jeq', 0, 0, 'pass');
  p.movReg(VALUE, 0);
  // Longer than the output MTU: the pipeline's (frag-needed, or a drop). Also what keeps a TCP aggregate
  // longer than one segment (generic hook, GRO turned on since the entry was made) out of a rewrite.
  p.load(Size.H, 3, DATA, IP + 2).toBe(3, 16);
  p.load(Size.H, 4, VALUE, VAL.MTU).jmpReg('jgt', 3, 4, 'pass');
  p.load(Size.B, 2, VALUE, VAL.FLAGS).alu('and', 2, ENCAP).jmp('jne', 2, 0, 'tunnel');
  // Two bodies, one per protocol, so that each knows its own header is in bounds.
  p.load(Size.B, 5, DATA, IP + 9).jmp('jeq', 5, 17, 'udp');
  needBytes(p, L4 + 20);
  forward(p, LAYOUT4, false, 'tcp');
  p.label('udp');
  forward(p, LAYOUT4, true, 'udp');
  tunnel(p);
  ipv6Path(p, sessions6Fd);
  p.label('pass').mov(0, XDP_PASS).exit();
  p.label('aborted').mov(0, XDP_ABORTED).exit();
  return p;
}

/**
 * IP-in-IP as tun.ts writes it: outer TOS and DF copied from the inner packet, TTL the inner's (after the
 * decrement) unless the entry fixes one, protocol 4, a fresh identification (random here: the pipeline's
 * counter is its own; RFC 6864 asks uniqueness only of fragmentable datagrams), checksum computed. A
 * packet that would exceed the MTU goes to the pipeline, which answers frag-needed.
 */
function tunnel(p: Program): void {
  p.label('tunnel');
  p.load(Size.H, 2, DATA, IP + 2)
    .toBe(2, 16)
    .alu('add', 2, 20);
  p.load(Size.H, 3, VALUE, VAL.MTU).jmpReg('jgt', 2, 3, 'pass');
  p.movReg(1, CTX).mov(2, -20).call(HELPER_ADJUST_HEAD).jmp('jne', 0, 0, 'pass');
  // Packet pointers are void after adjust_head: reload and bound them again (cannot fail: 42 bytes were
  // there before, 62 are now).
  p.load(Size.W, DATA, CTX, 0).load(Size.W, END, CTX, 4);
  const INNER = IP + 20;
  p.movReg(2, DATA)
    .alu('add', 2, INNER + 20)
    .jmpReg('jgt', 2, END, 'aborted');
  count(p, 20);
  p.load(Size.B, 2, VALUE, VAL.FLAGS).alu('and', 2, DEC_TTL).jmp('jeq', 2, 0, 'tunnel_ttl');
  p.load(Size.B, 2, DATA, INNER + 8)
    .alu('sub', 2, 1)
    .store(Size.B, DATA, INNER + 8, 2);
  p.load(Size.H, 2, DATA, INNER + 10).load(Size.W, 3, VALUE, VAL.IP_DELTA);
  updateChecksum(p, INNER + 10, false, 'inner');
  p.label('tunnel_ttl');
  p.storeImm(Size.H, DATA, 12, 0x0008); // EtherType IPv4
  p.storeImm(Size.B, DATA, IP, 0x45);
  p.load(Size.B, 2, DATA, INNER + 1).store(Size.B, DATA, IP + 1, 2);
  p.load(Size.H, 2, DATA, INNER + 2)
    .toBe(2, 16)
    .alu('add', 2, 20)
    .toBe(2, 16)
    .store(Size.H, DATA, IP + 2, 2);
  p.call(HELPER_PRANDOM).store(Size.H, DATA, IP + 4, 0);
  p.load(Size.B, 2, DATA, INNER + 6)
    .alu('and', 2, 0x40)
    .store(Size.B, DATA, IP + 6, 2);
  p.storeImm(Size.B, DATA, IP + 7, 0);
  p.load(Size.B, 2, VALUE, VAL.OUTER_TTL).jmp('jne', 2, 0, 'tunnel_fixed_ttl');
  p.load(Size.B, 2, DATA, INNER + 8);
  p.label('tunnel_fixed_ttl').store(Size.B, DATA, IP + 8, 2);
  p.storeImm(Size.B, DATA, IP + 9, 4);
  p.storeImm(Size.H, DATA, IP + 10, 0);
  p.load(Size.W, 2, VALUE, VAL.OUTER_SADDR).store(Size.W, DATA, IP + 12, 2);
  p.load(Size.W, 2, VALUE, VAL.OUTER_DADDR).store(Size.W, DATA, IP + 16, 2);
  // RFC 1071 over the ten words as loaded (the sum is byte-order independent), folded, complemented.
  p.mov(3, 0);
  for (let i = 0; i < 20; i += 2) p.load(Size.H, 2, DATA, IP + i).aluReg('add', 3, 2);
  for (let i = 0; i < 2; i++) p.movReg(4, 3).alu('rsh', 4, 16).alu('and', 3, 0xffff).aluReg('add', 3, 4);
  p.alu('xor', 3, 0xffff).store(Size.H, DATA, IP + 10, 3);
  send(p, 'tunnel');
}

/** if (data + n > data_end) goto pass. */
export function needBytes(p: Program, n: number): void {
  p.movReg(2, DATA).alu('add', 2, n).jmpReg('jgt', 2, END, 'pass');
}

/** Where one family keeps what `forward` touches. */
export interface ForwardLayout {
  /** The TCP/UDP header, the TTL / hop limit, in the frame. */
  l4: number;
  ttl: number;
  /** The new addresses and ports: `bytes` bytes at `from` in the value, to `to` in the frame (contiguous
   * in both: the addresses end where the L4 header, ports first, begins). */
  from: number;
  to: number;
  bytes: number;
  /** IPv4: the header checksum to update by VAL.IP_DELTA. */
  ipChecksum: number | null;
}

const LAYOUT4: ForwardLayout = {
  l4: L4,
  ttl: IP + 8,
  from: VAL.SADDR,
  to: IP + 12,
  bytes: 12,
  ipChecksum: IP + 10,
};

/**
 * Counts, rewrites and sends one packet whose session value is in VALUE (TCP: shifting its sequence
 * numbers first when the entry says so); `id` names its labels.
 */
export function forward(p: Program, at: ForwardLayout, udp: boolean, id: string): void {
  const csumOff = at.l4 + (udp ? 6 : 16);
  if (!udp) shiftSequence(p, at.l4, id); // (may still pass the packet: nothing is written before it has run)
  count(p, 0);
  p.load(Size.B, 2, VALUE, VAL.FLAGS).alu('and', 2, DEC_TTL).jmp('jeq', 2, 0, `ttl${id}`);
  p.load(Size.B, 2, DATA, at.ttl).alu('sub', 2, 1).store(Size.B, DATA, at.ttl, 2);
  p.label(`ttl${id}`);
  p.load(Size.B, 2, VALUE, VAL.FLAGS).alu('and', 2, REWRITE).jmp('jeq', 2, 0, `macs${id}`);
  for (let i = 0; i < at.bytes; i += 4)
    p.load(Size.W, 2, VALUE, at.from + i).store(Size.W, DATA, at.to + i, 2);
  p.load(Size.H, 2, DATA, csumOff);
  if (udp) p.jmp('jeq', 2, 0, `macs${id}`); // no checksum: none to update
  p.load(Size.W, 3, VALUE, VAL.L4_DELTA);
  if (!udp) p.aluReg('add', 3, 5); // the sequence field's change (shiftSequence)
  updateChecksum(p, csumOff, udp, `l4${id}`);
  p.label(`macs${id}`);
  if (at.ipChecksum !== null) {
    p.load(Size.H, 2, DATA, at.ipChecksum).load(Size.W, 3, VALUE, VAL.IP_DELTA);
    updateChecksum(p, at.ipChecksum, false, `ip${id}`);
  }
  send(p, id);
}

/**
 * Counts the packet (its frame length less `extra` bytes the program added). Activity is read from the
 * packet count, so no time is stamped: a helper call per packet saved.
 */
function count(p: Program, extra: number): void {
  p.mov(1, 1).atomicAdd(Size.DW, VALUE, VAL.PACKETS, 1);
  p.movReg(1, END).aluReg('sub', 1, DATA);
  if (extra) p.alu('sub', 1, extra);
  p.atomicAdd(Size.DW, VALUE, VAL.BYTES, 1);
}

/** Writes the MACs and sends: XDP_TX out of the input interface, bpf_redirect to another. */
function send(p: Program, id: string): void {
  p.load(Size.W, 2, VALUE, VAL.DMAC).store(Size.W, DATA, 0, 2);
  p.load(Size.W, 2, VALUE, VAL.DMAC + 4).store(Size.W, DATA, 4, 2);
  p.load(Size.W, 2, VALUE, VAL.DMAC + 8).store(Size.W, DATA, 8, 2);
  p.load(Size.W, 1, VALUE, VAL.IFINDEX).load(Size.W, 2, CTX, 12); // ctx->ingress_ifindex
  p.jmpReg('jne', 1, 2, `redirect${id}`).mov(0, XDP_TX).exit();
  p.label(`redirect${id}`).mov(2, 0).call(HELPER_REDIRECT).exit();
}

/**
 * Checksum field at `off` (its current value in r2 as loaded, little-endian) += delta in r3 (RFC 1624
 * eqn. 3: HC' = ~(~HC + delta), delta already summed over ~m + m'). A UDP result of zero is sent as 0xFFFF.
 */
function updateChecksum(p: Program, off: number, udp: boolean, tag: string): void {
  p.toBe(2, 16).alu('xor', 2, 0xffff).aluReg('add', 2, 3);
  for (let i = 0; i < 3; i++) p.movReg(4, 2).alu('rsh', 4, 16).alu('and', 2, 0xffff).aluReg('add', 2, 4);
  p.alu('xor', 2, 0xffff);
  if (udp) p.jmp('jne', 2, 0, `nonzero_${tag}`).mov(2, 0xffff).label(`nonzero_${tag}`);
  p.toBe(2, 16).store(Size.H, DATA, off, 2);
}
