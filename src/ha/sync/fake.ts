/**
 * In-memory sync sockets for tests: datagrams between `FakeSyncNet` sockets are delivered when the test
 * calls `deliver()` (in order, copies, so a sender reusing its buffer cannot change what is in flight),
 * and can be dropped, captured or tampered with on the way.
 */
import type { SyncPeerAddress, SyncSocket } from './socket.js';

interface InFlight {
  from: SyncPeerAddress;
  to: SyncPeerAddress;
  bytes: Uint8Array;
}

export class FakeSyncNet {
  readonly #sockets = new Map<string, FakeSyncSocket>();
  #queue: InFlight[] = [];
  /** Every datagram sent, for inspection. */
  readonly sent: InFlight[] = [];
  /** Return false to drop a datagram (loss), or change its bytes in place. */
  filter: ((d: InFlight) => boolean) | null = null;

  socket(address: string, port: number): FakeSyncSocket {
    const s = new FakeSyncSocket(this, { address, port });
    this.#sockets.set(`${address}:${port}`, s);
    return s;
  }

  enqueue(d: InFlight): void {
    this.sent.push(d);
    this.#queue.push(d);
  }

  /** Delivers what is queued (and what that provokes, up to `rounds` times); returns how many. */
  deliver(rounds = 1): number {
    let n = 0;
    for (let r = 0; r < rounds && this.#queue.length > 0; r++) {
      const q = this.#queue;
      this.#queue = [];
      for (const d of q) {
        if (this.filter && !this.filter(d)) continue;
        const s = this.#sockets.get(`${d.to.address}:${d.to.port}`);
        if (!s || s.closed) continue;
        s.receive(d.bytes, d.from);
        n++;
      }
    }
    return n;
  }

  /** Injects raw bytes as if `from` had sent them to `to`. */
  inject(bytes: Uint8Array, from: SyncPeerAddress, to: SyncPeerAddress): void {
    this.#queue.push({ from, to, bytes: Uint8Array.from(bytes) });
  }

  get queued(): number {
    return this.#queue.length;
  }
}

export class FakeSyncSocket implements SyncSocket {
  readonly #net: FakeSyncNet;
  readonly address: SyncPeerAddress;
  #handler: ((b: Uint8Array, from: SyncPeerAddress) => void) | null = null;
  sendErrors = 0;
  lastError: string | null = null;
  closed = false;

  constructor(net: FakeSyncNet, address: SyncPeerAddress) {
    this.#net = net;
    this.address = address;
  }

  send(b: Uint8Array, to: SyncPeerAddress): void {
    if (this.closed) return;
    this.#net.enqueue({ from: this.address, to, bytes: Uint8Array.from(b) });
  }

  onMessage(handler: (b: Uint8Array, from: SyncPeerAddress) => void): void {
    this.#handler = handler;
  }

  receive(b: Uint8Array, from: SyncPeerAddress): void {
    this.#handler?.(b, from);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
