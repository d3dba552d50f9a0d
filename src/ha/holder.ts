/**
 * Holding an instance's virtual addresses: the VipOwner calls (asynchronous: `ip addr`, or the packet
 * data plane) in one queue, and the announcements that follow a takeover. Each queued step re-checks
 * the machine's state when its turn comes, so a quick MASTER -> BACKUP -> MASTER flap ends with the
 * addresses owned and no announcement is sent for addresses we no longer hold.
 */
import { formatIp } from '../engine/addr.js';
import type { Timers } from '../health/timers.js';
import { type Announcer, AnnounceSchedule, type AnnounceTiming } from './garp.js';
import type { HaLogger } from './logger.js';
import type { VirtualAddressSpec } from './spec.js';
import type { VipOwner } from './vip.js';

export interface HolderOptions {
  instance: string;
  addresses: readonly VirtualAddressSpec[];
  vips: VipOwner;
  announcer: Announcer;
  garp: AnnounceTiming;
  timers: Timers;
  log: HaLogger;
  /** Whether the instance is (still) master: read when each queued step runs. */
  isMaster: () => boolean;
  counters: { vipErrors: number; announcements: number };
}

export class VipHolder {
  readonly #o: HolderOptions;
  readonly #announce: AnnounceSchedule;
  #queue: Promise<void> = Promise.resolve();
  #owned = false;

  constructor(opts: HolderOptions) {
    this.#o = opts;
    this.#announce = new AnnounceSchedule(
      () => {
        opts.counters.announcements += opts.announcer.announce(opts.addresses);
      },
      opts.garp,
      opts.timers,
    );
  }

  /** New garp_master_* timing (reload), used from the next takeover. */
  setTiming(timing: AnnounceTiming): void {
    this.#announce.setTiming(timing);
  }

  get owned(): boolean {
    return this.#owned;
  }

  /** Removes the addresses whatever we think we hold (start-up: a previous run may have left them). */
  clear(): Promise<void> {
    return this.#enqueue('remove', async () => {
      await this.#o.vips.releaseVips(this.#o.instance, this.#o.addresses);
      this.#owned = false;
    });
  }

  /** Became master: own the addresses, then announce them (keepalived garp_master_* timing). */
  take(): void {
    void this.#enqueue('add', async () => {
      if (!this.#o.isMaster()) return;
      await this.#o.vips.ownVips(this.#o.instance, this.#o.addresses);
      this.#owned = true;
      this.#o.log.info(
        { instance: this.#o.instance, addresses: this.#text() },
        'VRRP virtual addresses added',
      );
      if (this.#o.isMaster()) this.#announce.start();
    });
  }

  /** Left master: stop announcing at once, release the addresses in turn. */
  give(): void {
    this.#announce.stop();
    void this.#enqueue('remove', async () => {
      if (this.#o.isMaster()) return;
      await this.#o.vips.releaseVips(this.#o.instance, this.#o.addresses);
      this.#owned = false;
      this.#o.log.info(
        { instance: this.#o.instance, addresses: this.#text() },
        'VRRP virtual addresses removed',
      );
    });
  }

  /** Stops announcing and resolves once every queued change has run. */
  async close(): Promise<void> {
    this.#announce.stop();
    await this.#queue;
  }

  #text(): string[] {
    return this.#o.addresses.map((v) => `${formatIp(v.addr)}/${v.prefixLength} dev ${v.interface}`);
  }

  #enqueue(op: 'add' | 'remove', work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(work).catch((err: unknown) => {
      this.#o.counters.vipErrors++;
      this.#o.log.error(
        { instance: this.#o.instance, op, err: err instanceof Error ? err.message : String(err) },
        'VRRP virtual address change failed',
      );
    });
    return this.#queue;
  }
}
