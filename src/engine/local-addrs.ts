/**
 * Full-NAT local addresses (LIPs, DPVS's "laddr"): the director-owned source addresses FNAT rewrites
 * client addresses to, with the local port range allocated per (LIP, RS). Columns by LIP index; the
 * session table checks a candidate port against live sessions, so a port is free again the moment its
 * session expires.
 */
import type { IpAddress } from './addr.js';

export class LocalAddressPool {
  readonly addr: Uint32Array;
  readonly af: Uint8Array;
  /** Next port to try, per LIP. */
  readonly cursor: Uint16Array;
  readonly portMin: number;
  readonly portMax: number;
  readonly addresses: readonly IpAddress[];
  /** Round-robin over LIPs for new sessions. */
  #next = 0;

  constructor(addresses: readonly IpAddress[], portMin = 1024, portMax = 65535) {
    this.addresses = addresses;
    const n = addresses.length;
    this.addr = new Uint32Array(Math.max(1, n) * 4);
    this.af = new Uint8Array(Math.max(1, n));
    this.cursor = new Uint16Array(Math.max(1, n));
    addresses.forEach((a, i) => {
      this.af[i] = a.family;
      for (let w = 0; w < 4; w++) this.addr[i * 4 + w] = a.words[w]!;
      this.cursor[i] = portMin;
    });
    this.portMin = portMin;
    this.portMax = portMax;
  }

  get size(): number {
    return this.addresses.length;
  }

  /** The next LIP of `af` in round-robin order, or -1. */
  pick(af: number): number {
    const n = this.addresses.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      if (this.af[i] === af) {
        this.#next = (i + 1) % n;
        return i;
      }
    }
    return -1;
  }

  /** Index of the LIP with this address, or -1. */
  find(af: number, words: ArrayLike<number>, off: number): number {
    for (let i = 0; i < this.addresses.length; i++) {
      const b = i * 4;
      if (
        this.af[i] === af &&
        this.addr[b] === words[off] &&
        this.addr[b + 1] === words[off + 1] &&
        this.addr[b + 2] === words[off + 2] &&
        this.addr[b + 3] === words[off + 3]
      )
        return i;
    }
    return -1;
  }
}
