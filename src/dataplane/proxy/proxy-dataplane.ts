/**
 * The socket data plane: a listener per virtual service (TCP or UDP) over the engine in this thread. In
 * LVS terms it is Full-NAT done with sockets: the real server sees the director's address and learns the
 * client's from the PROXY protocol header when configured.
 */
import type { Balancer } from '../../engine/balancer.js';
import type { Clock } from '../../engine/clock.js';
import type { DataPlane, DataPlaneService, DataPlaneStats } from '../types.js';
import { newProxyCounters, PROXY_COUNTER_NAMES } from './counters.js';
import { TcpListener } from './tcp-listener.js';
import type { TcpSession } from './tcp-session.js';
import { UdpListener, type UdpSession } from './udp-listener.js';

type Listener = TcpListener | UdpListener;
type Holder = TcpSession | UdpSession;

export interface ProxyDataPlaneOptions {
  balancer: Balancer;
  clock: Clock;
  /** Connect attempts per accepted connection (first pick + retries on other real servers). */
  maxConnectAttempts?: number;
  onConnectFailure?: (serviceKey: string, dest: number) => void;
}

export class ProxyDataPlane implements DataPlane {
  readonly kind = 'proxy' as const;
  readonly balancer: Balancer;
  readonly clock: Clock;
  readonly counters = newProxyCounters();
  stopping = false;
  readonly #listeners = new Map<string, Listener>();
  /** Session holding each engine connection id (sparse array indexed by id). */
  readonly #holders: (Holder | undefined)[] = [];
  readonly #tcpSessions = new Set<TcpSession>();
  readonly #opts: ProxyDataPlaneOptions;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweepMs = 0;

  constructor(opts: ProxyDataPlaneOptions) {
    this.#opts = opts;
    this.balancer = opts.balancer;
    this.clock = opts.clock;
    this.balancer.conns.onExpire = (id) => {
      const h = this.#holders[id];
      if (h) {
        this.#holders[id] = undefined;
        h.expired();
      }
    };
  }

  // ---- hosts for listeners and sessions ---------------------------------------------------------

  hold(conn: number, session: Holder | null): void {
    if (session) {
      this.#holders[conn] = session;
      if ('client' in session) this.#tcpSessions.add(session);
    } else this.#holders[conn] = undefined;
  }

  held(conn: number): Holder | undefined {
    return this.#holders[conn];
  }

  release(session: TcpSession): void {
    this.#tcpSessions.delete(session);
    if (session.conn !== 0 && this.#holders[session.conn] === session)
      this.#holders[session.conn] = undefined;
  }

  onConnectFailure(serviceKey: string, dest: number): void {
    this.#opts.onConnectFailure?.(serviceKey, dest);
  }

  // ---- DataPlane ---------------------------------------------------------------------------------------

  /**
   * Idle timeouts and session-table touches for every TCP session, in one timer: a quarter of the
   * shortest idle timeout (bounded to 25..500 ms), so a session closes within 1.25 x its idle timeout.
   */
  #armSweep(services: readonly DataPlaneService[]): void {
    let shortest = Number.POSITIVE_INFINITY;
    for (const s of services)
      if (s.protocol === 'tcp' && s.idleTimeoutMs > 0) shortest = Math.min(shortest, s.idleTimeoutMs);
    const ms = Math.max(25, Math.min(500, Math.floor(shortest / 4)));
    if (ms === this.#sweepMs && this.#sweepTimer) return;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepMs = ms;
    this.#sweepTimer = setInterval(this.#sweep, ms);
    this.#sweepTimer.unref();
  }

  #sweep = (): void => {
    const now = this.clock.now();
    for (const s of this.#tcpSessions) s.sweep(now);
  };

  async syncServices(services: readonly DataPlaneService[]): Promise<void> {
    this.#armSweep(services);
    const want = new Map(services.map((s) => [s.key, s]));
    for (const [key, l] of this.#listeners) {
      if (!want.has(key)) {
        this.#listeners.delete(key);
        if (l instanceof TcpListener) await l.close();
        else l.close();
      }
    }
    for (const s of services) {
      const cur = this.#listeners.get(s.key);
      if (cur) {
        cur.config = s;
        continue;
      }
      const l =
        s.protocol === 'tcp'
          ? new TcpListener(this, s, this.#opts.maxConnectAttempts)
          : new UdpListener(this, s);
      await l.listen();
      this.#listeners.set(s.key, l);
    }
  }

  /** Closes listeners, waits for open TCP connections to end (up to `graceMs`), then closes the rest. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const closing: Promise<void>[] = [];
    for (const l of this.#listeners.values()) {
      if (l instanceof TcpListener) closing.push(l.close());
    }
    const deadline = Date.now() + graceMs;
    while (this.#tcpSessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    for (const s of [...this.#tcpSessions]) s.destroy();
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    for (const l of this.#listeners.values()) if (l instanceof UdpListener) l.close();
    this.#listeners.clear();
    await Promise.all(closing);
  }

  stats(): DataPlaneStats {
    const counters: Record<string, number> = {};
    PROXY_COUNTER_NAMES.forEach((n, i) => {
      counters[n] = this.counters[i]!;
    });
    let udp = 0;
    for (const l of this.#listeners.values()) if (l instanceof UdpListener) udp += l.sessions;
    return {
      counters,
      gauges: { tcp_connections: this.#tcpSessions.size, udp_sessions: udp, listeners: this.#listeners.size },
    };
  }
}
