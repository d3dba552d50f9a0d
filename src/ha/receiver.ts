/**
 * The receive side of one instance: every packet the transport hands over is checked (vrrp/receive.ts),
 * counted by outcome and, for problems, logged at most once a minute per reason, as keepalived's
 * rate-limited log_rate_limited_error does. Returns what the machine should see, or null.
 */
import { formatIp, type IpAddress } from '../engine/addr.js';
import type { InstanceCounters } from './counters.js';
import type { HaLogger } from './logger.js';
import { checkAdvert, type DropReason, type ReceiveSpec, type RxPacket } from './vrrp/receive.js';
import type { AdvertIn } from './vrrp/types.js';

/** Log a repeated receive problem at most this often per reason. */
const LOG_INTERVAL_MS = 60_000;

export class AdvertReceiver {
  readonly #instance: string;
  readonly #counters: InstanceCounters;
  readonly #log: HaLogger;
  readonly #now: () => number;
  readonly #logged = new Map<DropReason | 'addresses', number>();

  constructor(instance: string, counters: InstanceCounters, log: HaLogger, now: () => number) {
    this.#instance = instance;
    this.#counters = counters;
    this.#log = log;
    this.#now = now;
  }

  accept(pkt: RxPacket, spec: ReceiveSpec): AdvertIn | null {
    const verdict = checkAdvert(pkt, spec);
    const c = this.#counters;
    if (!verdict.ok) {
      c.drops[verdict.drop]++;
      // Other routers' VRIDs and our own looped adverts are normal on a shared link: counted, not logged.
      if (verdict.drop !== 'other-vrid' && verdict.drop !== 'own') this.#report(verdict.drop, pkt.src);
      return null;
    }
    c.advertsReceived++;
    if (verdict.advert.priority === 0) c.priorityZeroReceived++;
    if (verdict.intervalMismatch) c.intervalMismatches++;
    if (verdict.addressMismatch) {
      c.addressListErrors++;
      this.#report('addresses', pkt.src, verdict.addressMismatch);
    }
    return verdict.advert;
  }

  #report(reason: DropReason | 'addresses', from: IpAddress, detail?: string): void {
    const now = this.#now();
    const last = this.#logged.get(reason);
    if (last !== undefined && now - last < LOG_INTERVAL_MS) return;
    this.#logged.set(reason, now);
    const fields = { instance: this.#instance, from: formatIp(from), reason, ...(detail ? { detail } : {}) };
    if (reason === 'addresses')
      this.#log.warn(fields, 'VRRP advert lists other virtual addresses than ours (accepted)');
    else this.#log.warn(fields, 'VRRP advert dropped');
  }
}
