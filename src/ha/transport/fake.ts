/**
 * An in-memory link for tests: every transport attached to a `FakeLan` hears the multicast adverts of the
 * others, and unicast ones addressed to it. Delivery is asynchronous (a microtask), like a network, so a
 * sender never re-enters its own handler. Links can be cut and restored (split brain), and frames can be
 * injected (malformed adverts, wrong TTL).
 */
import { formatIp, type IpAddress, ipEquals } from '../../engine/addr.js';
import { VRRP_GROUP_V4, VRRP_TTL } from '../../wire/vrrp.js';
import type { RxPacket } from '../vrrp/receive.js';
import type { TransportFactory, TransportOptions, VrrpTransport } from './types.js';

export interface SentFrame {
  from: IpAddress;
  dst: IpAddress;
  message: Uint8Array;
  /** Sequence number across the LAN. */
  seq: number;
}

export class FakeLan {
  readonly #members = new Set<FakeTransport>();
  /** Every message sent on the LAN, in order (tests decode them). */
  readonly sent: SentFrame[] = [];
  #seq = 0;

  /** A factory handing out transports on this LAN; `source` must be given (no interface to ask). */
  factory(defaultSource?: IpAddress): TransportFactory {
    return (opts) => this.attach(opts, defaultSource);
  }

  attach(
    opts: Pick<TransportOptions, 'family' | 'source' | 'unicastPeers'>,
    fallback?: IpAddress,
  ): FakeTransport {
    const source = opts.source ?? fallback;
    if (!source) throw new Error('FakeLan transports need a source address');
    const t = new FakeTransport(this, source, opts.family);
    this.#members.add(t);
    return t;
  }

  /** Stops delivery to and from the member with this address. */
  cut(addr: IpAddress): void {
    this.#member(addr).linked = false;
  }

  restore(addr: IpAddress): void {
    this.#member(addr).linked = true;
  }

  /** Delivers a crafted packet to every linked member (or the one at `pkt.dst` when unicast). */
  inject(pkt: RxPacket): void {
    this.#deliver(null, pkt);
  }

  /** @internal */
  detach(t: FakeTransport): void {
    this.#members.delete(t);
  }

  /** @internal */
  transmit(from: FakeTransport, dst: IpAddress, message: Uint8Array): void {
    this.sent.push({ from: from.source, dst, message: message.slice(), seq: ++this.#seq });
    if (!from.linked) return;
    this.#deliver(from, { src: from.source, dst, ttl: VRRP_TTL, message: message.slice() });
  }

  #deliver(from: FakeTransport | null, pkt: RxPacket): void {
    const multicast =
      pkt.dst.family === 4 ? pkt.dst.words[0] === VRRP_GROUP_V4 : pkt.dst.words[0] >>> 24 === 0xff;
    for (const m of this.#members) {
      if (m === from || !m.linked || m.family !== pkt.dst.family) continue;
      if (!multicast && !ipEquals(m.source, pkt.dst)) continue;
      queueMicrotask(() => m.receive(pkt));
    }
  }

  #member(addr: IpAddress): FakeTransport {
    for (const m of this.#members) if (ipEquals(m.source, addr)) return m;
    throw new Error(`no member ${formatIp(addr)} on this FakeLan`);
  }
}

export class FakeTransport implements VrrpTransport {
  readonly malformed = 0;
  lastError: string | null = null;
  linked = true;
  closed = false;
  #handler: ((pkt: RxPacket) => void) | null = null;

  constructor(
    readonly lan: FakeLan,
    readonly source: IpAddress,
    readonly family: 4 | 6,
  ) {}

  send(dst: IpAddress, message: Uint8Array): boolean {
    if (this.closed) {
      this.lastError = 'closed';
      return false;
    }
    this.lan.transmit(this, dst, message);
    return true;
  }

  onReceive(handler: (pkt: RxPacket) => void): void {
    this.#handler = handler;
  }

  /** @internal */
  receive(pkt: RxPacket): void {
    if (!this.closed) this.#handler?.(pkt);
  }

  close(): void {
    this.closed = true;
    this.lan.detach(this);
  }
}
