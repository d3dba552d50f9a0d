/**
 * Announcing the virtual addresses after a takeover: gratuitous ARP for IPv4, unsolicited NA for IPv6,
 * with keepalived's timing (`AnnounceSchedule`): `repeat` rounds at once, `repeat` more after `delayMs`
 * (garp_master_delay; 0 = none), then one round every `refreshMs` (garp_master_refresh; 0 = off).
 *
 * `RawAnnouncer` sends through a send-only AF_PACKET socket per interface (protocol 0: nothing is ever
 * queued for reading), so it works in proxy mode and next to a packet data plane alike.
 */

import { AF_PACKET, SOCK_CLOEXEC, SOCK_RAW } from '../dataplane/packet/constants.js';
import { interfaceInfo } from '../dataplane/packet/ifinfo.js';
import { errnoName, libc, syscallError } from '../dataplane/packet/libc.js';
import { realTimers, type Timers } from '../health/timers.js';
import {
  GARP_FRAME_LEN,
  macToNumber,
  NA_FRAME_LEN,
  writeGarp,
  writeUnsolicitedNa,
} from './announce-frames.js';
import type { VirtualAddressSpec } from './spec.js';

export interface Announcer {
  /** One round: one frame per address on its interface. Never throws; returns the frames sent. */
  announce(addresses: readonly VirtualAddressSpec[]): number;
  readonly sent: number;
  readonly errors: number;
  readonly lastError: string | null;
  close(): void;
}

interface Link {
  fd: number;
  mac: number;
}

export class RawAnnouncer implements Announcer {
  readonly #links = new Map<string, Link>();
  readonly #frame = Buffer.alloc(Math.max(GARP_FRAME_LEN, NA_FRAME_LEN));
  sent = 0;
  errors = 0;
  lastError: string | null = null;

  announce(addresses: readonly VirtualAddressSpec[]): number {
    let n = 0;
    for (const v of addresses) {
      try {
        const link = this.#link(v.interface);
        const len =
          v.addr.family === 4
            ? writeGarp(this.#frame, link.mac, v.addr)
            : writeUnsolicitedNa(this.#frame, link.mac, v.addr);
        const c = libc();
        if (c.send(link.fd, this.#frame, len, 0) < 0) {
          this.#fail(`send on ${v.interface}: ${errnoName(c.errno())}`);
          // The interface may have been re-created (new index): reopen next time.
          this.#drop(v.interface);
          continue;
        }
        n++;
        this.sent++;
      } catch (err) {
        this.#fail(err instanceof Error ? err.message : String(err));
      }
    }
    return n;
  }

  close(): void {
    for (const name of [...this.#links.keys()]) this.#drop(name);
  }

  #fail(message: string): void {
    this.errors++;
    this.lastError = message;
  }

  #drop(name: string): void {
    const l = this.#links.get(name);
    if (!l) return;
    libc().close(l.fd);
    this.#links.delete(name);
  }

  #link(name: string): Link {
    const known = this.#links.get(name);
    if (known) return known;
    const info = interfaceInfo(name);
    const c = libc();
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) throw syscallError('socket(AF_PACKET)', c.errno(), { ifname: name });
    const sll = Buffer.alloc(20);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeInt32LE(info.index, 4);
    if (c.bind(fd, sll, sll.length) < 0) {
      const errno = c.errno();
      c.close(fd);
      throw syscallError('bind(AF_PACKET)', errno, { ifname: name });
    }
    const link = { fd, mac: macToNumber(info.mac) };
    this.#links.set(name, link);
    return link;
  }
}

export interface AnnounceTiming {
  repeat: number;
  delayMs: number;
  refreshMs: number;
}

/** keepalived's garp_master_* timing around one Announcer; start() on MASTER, stop() on leaving it. */
export class AnnounceSchedule {
  readonly #timers: Timers;
  readonly #announce: () => void;
  #timing: AnnounceTiming;
  #handles: unknown[] = [];
  #running = false;

  constructor(announce: () => void, timing: AnnounceTiming, timers: Timers = realTimers) {
    this.#announce = announce;
    this.#timing = timing;
    this.#timers = timers;
  }

  /** New timing (reload): used from the next start(). */
  setTiming(timing: AnnounceTiming): void {
    this.#timing = timing;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.stop();
    this.#running = true;
    const { repeat, delayMs, refreshMs } = this.#timing;
    this.#burst(repeat);
    if (delayMs > 0) this.#after(delayMs, () => this.#burst(repeat));
    if (refreshMs > 0) {
      const refresh = () => {
        this.#burst(1);
        this.#after(refreshMs, refresh);
      };
      this.#after(delayMs + refreshMs, refresh);
    }
  }

  stop(): void {
    this.#running = false;
    for (const h of this.#handles) this.#timers.clearTimeout(h);
    this.#handles = [];
  }

  #burst(rounds: number): void {
    for (let i = 0; i < rounds; i++) this.#announce();
  }

  #after(ms: number, fn: () => void): void {
    const h = this.#timers.setTimeout(() => {
      this.#handles = this.#handles.filter((x) => x !== h);
      if (this.#running) fn();
    }, ms);
    this.#handles.push(h);
  }
}
