/**
 * The instance's own interface as a FAULT source, as keepalived tracks it by default: while the link is
 * down (no carrier, administratively down, or the interface is gone) the instance is in FAULT, so a
 * router cut off from the segment neither claims nor keeps the addresses. The link is polled through an
 * injected probe (SIOCGIFFLAGS IFF_RUNNING in production: one ioctl, per namespace) at most once per
 * advert interval and at least once a second.
 */

import { interfaceInfo } from '../dataplane/packet/ifinfo.js';
import type { Timers } from '../health/timers.js';

/** true = usable, false = down or missing. */
export type LinkProbe = (ifname: string) => boolean;

export const ioctlLinkProbe: LinkProbe = (ifname) => {
  try {
    return interfaceInfo(ifname).running;
  } catch {
    return false;
  }
};

export class LinkWatch {
  readonly #ifname: string;
  readonly #probe: LinkProbe;
  readonly #timers: Timers;
  readonly #everyMs: number;
  readonly #onChange: (up: boolean) => void;
  #up: boolean;
  #timer: unknown = null;
  #stopped = false;

  constructor(opts: {
    ifname: string;
    probe: LinkProbe;
    timers: Timers;
    advertIntervalMs: number;
    onChange: (up: boolean) => void;
  }) {
    this.#ifname = opts.ifname;
    this.#probe = opts.probe;
    this.#timers = opts.timers;
    this.#everyMs = Math.min(1000, Math.max(50, opts.advertIntervalMs));
    this.#onChange = opts.onChange;
    this.#up = this.#probe(this.#ifname);
    this.#schedule();
  }

  get up(): boolean {
    return this.#up;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      const up = this.#probe(this.#ifname);
      if (up !== this.#up) {
        this.#up = up;
        this.#onChange(up);
      }
      this.#schedule();
    }, this.#everyMs);
  }
}
