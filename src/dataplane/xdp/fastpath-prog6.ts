/**
 * The IPv6 half of the fast path (fastpath-prog.ts has the why): DR, NAT and Full-NAT sessions of IPv6
 * TCP and UDP. Only packets whose upper header follows the fixed header directly (no extension headers,
 * so no fragments) with a hop limit above 1 and a payload length that fits the frame are looked up; the
 * rest is the pipeline's. IPv6 has no header checksum: a hit decrements the hop limit, rewrites
 * addresses and ports with the L4 checksum delta of the entry (and shifts sequence numbers behind a PROXY
 * header, fastpath-seq.ts), sets the MACs and sends. Its map has its own
 * key and value sizes; the value shares the IPv4 layout's flags, interface, MACs, delta and counters.
 */
import { FP, type Program, Size } from './asm.js';
import { DATA, type ForwardLayout, forward, HELPER_MAP_LOOKUP, needBytes, VALUE } from './fastpath-prog.js';

/** IPv6 session key: source, destination, ports as on the wire, then the next header. */
export const KEY6 = Object.freeze({ SADDR: 0, DADDR: 16, SPORT: 32, DPORT: 34, PROTO: 36, LEN: 40 });

/** IPv6 session value: VAL's FLAGS, IFINDEX, DMAC/SMAC, L4_DELTA, PACKETS, BYTES, then the new addresses and ports. */
/**
 * Bytes 0-63 as VAL. SLOT: not read by the program, the manager's slot of the entry (LE u32), as VAL.SLOT;
 * MTU: the output MTU (LE u16), compared with the packet's length as for IPv4.
 */
export const VAL6 = Object.freeze({
  SADDR: 64,
  DADDR: 80,
  SPORT: 96,
  DPORT: 98,
  SLOT: 100,
  MTU: 104,
  LEN: 112,
});

const IP6 = 14;
const L4 = IP6 + 40;

const LAYOUT6: ForwardLayout = {
  l4: L4,
  ttl: IP6 + 7,
  from: VAL6.SADDR,
  to: IP6 + 8,
  bytes: 36,
  ipChecksum: null,
};

export function ipv6Path(p: Program, sessions6Fd: number): void {
  p.label('ipv6');
  needBytes(p, L4 + 8);
  p.load(Size.B, 2, DATA, IP6).alu('rsh', 2, 4).jmp('jne', 2, 6, 'pass');
  p.load(Size.B, 2, DATA, IP6 + 7).jmp('jle', 2, 1, 'pass'); // hop limit
  p.load(Size.H, 3, DATA, IP6 + 4)
    .toBe(3, 16)
    .jmp('jlt', 3, 8, 'pass'); // payload length
  p.movReg(4, DATA).alu('add', 4, L4).aluReg('add', 4, 3).jmpReg('jgt', 4, 9, 'pass');
  p.load(Size.B, 5, DATA, IP6 + 6);
  p.jmp('jeq', 5, 6, 'tcp6').jmp('jne', 5, 17, 'pass');
  p.load(Size.H, 2, DATA, L4 + 4)
    .toBe(2, 16)
    .jmpReg('jne', 2, 3, 'pass'); // UDP length = payload
  p.goto('key6');
  p.label('tcp6');
  needBytes(p, L4 + 20);
  p.load(Size.B, 2, DATA, L4 + 12)
    .alu('rsh', 2, 4)
    .jmp('jlt', 2, 5, 'pass');
  p.alu('lsh', 2, 2).jmpReg('jgt', 2, 3, 'pass');
  p.load(Size.B, 2, DATA, L4 + 13)
    .alu('and', 2, 0x07)
    .jmp('jne', 2, 0, 'pass'); // FIN, SYN, RST
  p.label('key6');
  // Addresses (32 bytes) and ports into the key at fp-40, then the next header.
  for (let i = 0; i < 36; i += 4) p.load(Size.W, 2, DATA, IP6 + 8 + i).store(Size.W, FP, -40 + i, 2);
  p.store(Size.W, FP, -40 + KEY6.PROTO, 5);
  p.loadMapFd(1, sessions6Fd).movReg(2, FP).alu('add', 2, -40).call(HELPER_MAP_LOOKUP);
  p.jmp('jeq', 0, 0, 'pass');
  p.movReg(VALUE, 0);
  // Longer than the output MTU: the pipeline's (packet too big), as for IPv4.
  p.load(Size.H, 3, DATA, IP6 + 4)
    .toBe(3, 16)
    .alu('add', 3, 40);
  p.load(Size.H, 4, VALUE, VAL6.MTU).jmpReg('jgt', 3, 4, 'pass');
  p.load(Size.B, 5, DATA, IP6 + 6).jmp('jeq', 5, 17, 'udp6');
  needBytes(p, L4 + 20);
  forward(p, LAYOUT6, false, 'tcp6');
  p.label('udp6');
  forward(p, LAYOUT6, true, 'udp6');
}
