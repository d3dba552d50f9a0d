/**
 * Which virtual addresses a packet-mode director answers for, VRRP instance by instance. The data plane
 * has one list of addresses it holds; VRRP reports each instance on its own (`ownVips(instance)` on
 * becoming master, `releaseVips(instance)` on leaving it). With several instances — keepalived's usual
 * "each director is master of one" layout — one instance's release must not take the other's addresses
 * away, so the list is the union over the instances held now.
 */
import type { IpAddress } from '../engine/addr.js';

export interface OwnershipChange {
  /** Every address of every instance held now. */
  owned: IpAddress[];
  /** The addresses this change took over (to announce). */
  taken: IpAddress[];
}

export class VipOwnership {
  readonly #held = new Map<string, IpAddress[]>();

  /** `instance` became master of `addresses`. */
  own(instance: string, addresses: readonly IpAddress[]): OwnershipChange {
    this.#held.set(instance, [...addresses]);
    return { owned: this.owned(), taken: [...addresses] };
  }

  /** `instance` is no longer master. */
  release(instance: string): OwnershipChange {
    this.#held.delete(instance);
    return { owned: this.owned(), taken: [] };
  }

  /** Instances no longer configured (a reload removed them) hold nothing. */
  retain(instances: readonly string[]): void {
    for (const name of [...this.#held.keys()]) if (!instances.includes(name)) this.#held.delete(name);
  }

  owned(): IpAddress[] {
    const seen = new Set<string>();
    const out: IpAddress[] = [];
    for (const list of this.#held.values()) {
      for (const a of list) {
        const key = `${a.family}/${a.words.join('.')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(a);
      }
    }
    return out;
  }

  instances(): string[] {
    return [...this.#held.keys()];
  }
}
