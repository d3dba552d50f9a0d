/**
 * A discrete-event simulation of pure VRRP machines on one link: virtual time, adverts delivered to every
 * other linked node after `latencyMs`, timers fired exactly at their deadlines. No I/O, no real time:
 * whole failover scenarios (kill, graceful stop, split brain) run in microseconds and give exact times.
 */
import { type IpAddress, parseIp } from '../../src/engine/addr.js';
import { VrrpMachine } from '../../src/ha/vrrp/machine.js';
import type { MachineConfig, VrrpAction, VrrpEvent } from '../../src/ha/vrrp/types.js';

export interface SimNode {
  name: string;
  m: VrrpMachine;
  addr: IpAddress;
  /** false = cable cut: sends nothing, hears nothing. */
  linked: boolean;
  /** false = crashed: no timers, no sends, no receives. */
  alive: boolean;
}

export interface SimRecord {
  t: number;
  node: string;
  action: VrrpAction;
}

interface Delivery {
  t: number;
  seq: number;
  to: SimNode;
  from: SimNode;
  priority: number;
}

export class Sim {
  now = 0;
  readonly nodes: SimNode[] = [];
  readonly log: SimRecord[] = [];
  #queue: Delivery[] = [];
  #seq = 0;

  constructor(readonly latencyMs = 0.125) {}

  add(name: string, addr: string, cfg: Omit<MachineConfig, 'primary'>): SimNode {
    const node: SimNode = {
      name,
      addr: parseIp(addr),
      m: new VrrpMachine({ ...cfg, primary: parseIp(addr) }),
      linked: true,
      alive: true,
    };
    this.nodes.push(node);
    return node;
  }

  node(name: string): SimNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Applies an event to a node now and carries out its actions. */
  event(name: string, ev: VrrpEvent): void {
    const n = this.node(name);
    if (!n.alive) return;
    for (const a of n.m.handle(ev, this.now)) this.#act(n, a);
  }

  /** Runs until `until` (absolute ms): deliveries and timers in time order. */
  runUntil(until: number): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const d = this.#queue[0];
      let timerNode: SimNode | null = null;
      for (const n of this.nodes) {
        if (n.alive && n.m.deadline !== Infinity && (!timerNode || n.m.deadline < timerNode.m.deadline))
          timerNode = n;
      }
      const tTimer = timerNode ? timerNode.m.deadline : Infinity;
      const tDelivery = d ? d.t : Infinity;
      const next = Math.min(tTimer, tDelivery);
      if (next > until) break;
      this.now = next;
      if (tDelivery <= tTimer && d) {
        this.#queue.shift();
        if (d.to.alive && d.to.linked) {
          const advert = {
            src: d.from.addr,
            priority: d.priority,
            advertIntervalMs: d.from.m.config.advertIntervalMs,
          };
          for (const a of d.to.m.handle({ type: 'advert', advert }, this.now)) this.#act(d.to, a);
        }
      } else if (timerNode) {
        for (const a of timerNode.m.handle({ type: 'timer' }, this.now)) this.#act(timerNode, a);
      }
    }
    this.now = until;
  }

  /** First transition of `name` into `state` at or after `since`. */
  becameAt(name: string, state: string, since = 0): number | null {
    const r = this.log.find(
      (x) => x.node === name && x.t >= since && x.action.type === 'transition' && x.action.to === state,
    );
    return r ? r.t : null;
  }

  masters(): string[] {
    return this.nodes.filter((n) => n.alive && n.m.state === 'master').map((n) => n.name);
  }

  #act(n: SimNode, a: VrrpAction): void {
    this.log.push({ t: this.now, node: n.name, action: a });
    if (a.type !== 'send' || !n.linked) return;
    for (const to of this.nodes) {
      if (to === n) continue;
      this.#queue.push({ t: this.now + this.latencyMs, seq: ++this.#seq, to, from: n, priority: a.priority });
    }
    this.#queue.sort((x, y) => x.t - y.t || x.seq - y.seq);
  }
}
