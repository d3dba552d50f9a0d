/**
 * One proxied TCP connection: the client socket, the connection to the chosen real server, and the relay
 * between them with backpressure (a full side pauses the other), half-close (an end travels across, the
 * other direction keeps flowing) and an idle timeout over both directions. The session is the engine
 * connection's holder: it keeps the session-table entry's state in step with the sockets, and the engine
 * expiring the entry (expire_nodest_conn, flush) closes the sockets.
 */
import net from 'node:net';
import type { Balancer } from '../../engine/balancer.js';
import type { Clock } from '../../engine/clock.js';
import { Dir, TcpState } from '../../engine/conntable/tcp-states.js';
import { ProxyCounter } from './counters.js';

export interface TcpSessionHost {
  readonly balancer: Balancer;
  readonly clock: Clock;
  readonly counters: Float64Array;
  /** Forgets the session (connection id no longer held). */
  release(session: TcpSession): void;
}

export interface Upstream {
  host: string;
  port: number;
  dest: number;
}

export class TcpSession {
  readonly client: net.Socket;
  upstream: net.Socket | null = null;
  conn = 0;
  svc: number;
  dest = -1;
  lastActivity = 0;
  #host: TcpSessionHost;
  #idleMs: number;
  #closed = false;
  #clientEnded = false;
  #upstreamEnded = false;
  #connectTimer: NodeJS.Timeout | null = null;

  constructor(host: TcpSessionHost, client: net.Socket, svc: number, idleMs: number) {
    this.#host = host;
    this.client = client;
    this.svc = svc;
    this.#idleMs = idleMs;
    this.lastActivity = host.clock.now();
    client.on('error', this.#onClientError);
    client.on('close', this.#onClose);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects to `to` (prefix = PROXY header to send first). Resolves true once connected, false when the
   * attempt failed (refused, unreachable, timeout); the caller may then retry another real server.
   */
  connect(to: Upstream, connectTimeoutMs: number, prefix: Buffer | null): Promise<boolean> {
    this.dest = to.dest;
    return new Promise((resolve) => {
      const up = net.connect({ host: to.host, port: to.port, allowHalfOpen: true, noDelay: true });
      let settled = false;
      const fail = (timeout: boolean) => {
        if (settled) return;
        settled = true;
        if (this.#connectTimer) clearTimeout(this.#connectTimer);
        this.#connectTimer = null;
        up.destroy();
        this.#host.counters[timeout ? ProxyCounter.CONNECT_TIMEOUT : ProxyCounter.CONNECT_FAILED]!++;
        resolve(false);
      };
      this.#connectTimer = setTimeout(() => fail(true), connectTimeoutMs);
      up.once('error', () => fail(false));
      up.once('connect', () => {
        if (settled) return;
        settled = true;
        if (this.#connectTimer) clearTimeout(this.#connectTimer);
        this.#connectTimer = null;
        up.removeAllListeners('error');
        if (this.#closed) {
          up.destroy();
          resolve(false);
          return;
        }
        this.upstream = up;
        if (prefix) up.write(prefix);
        this.#startRelay(up);
        resolve(true);
      });
    });
  }

  #startRelay(up: net.Socket): void {
    const b = this.#host.balancer;
    const now = this.#host.clock.now();
    b.conns.setState(this.conn, TcpState.ESTABLISHED, now);
    const client = this.client;
    client.setNoDelay(true);
    client.on('data', this.#onClientData);
    up.on('data', this.#onUpstreamData);
    client.on('drain', this.#onClientDrain);
    up.on('drain', this.#onUpstreamDrain);
    client.on('end', this.#onClientEnd);
    up.on('end', this.#onUpstreamEnd);
    up.on('error', this.#onUpstreamError);
    up.on('close', this.#onClose);
    client.on('timeout', this.#onTimeout);
    up.on('timeout', this.#onTimeout);
    if (this.#idleMs > 0) {
      client.setTimeout(this.#idleMs);
      up.setTimeout(this.#idleMs);
    }
  }

  #onClientData = (chunk: Buffer): void => {
    const h = this.#host;
    const now = h.clock.now();
    this.lastActivity = now;
    const b = h.balancer;
    b.services.stats.inPacket(this.svc, chunk.length);
    b.dests.stats.inPacket(this.dest, chunk.length);
    b.conns.touch(this.conn, now);
    if (!this.upstream!.write(chunk)) this.client.pause();
  };

  #onUpstreamData = (chunk: Buffer): void => {
    const h = this.#host;
    const now = h.clock.now();
    this.lastActivity = now;
    const b = h.balancer;
    b.services.stats.outPacket(this.svc, chunk.length);
    b.dests.stats.outPacket(this.dest, chunk.length);
    b.conns.touch(this.conn, now);
    if (!this.client.write(chunk)) this.upstream!.pause();
  };

  #onClientDrain = (): void => {
    this.upstream?.resume();
  };

  #onUpstreamDrain = (): void => {
    this.client.resume();
  };

  #onClientEnd = (): void => {
    this.#clientEnded = true;
    this.upstream?.end();
    this.#maybeFinish();
  };

  #onUpstreamEnd = (): void => {
    this.#upstreamEnded = true;
    this.client.end();
    this.#maybeFinish();
  };

  /** Both halves closed: the sockets close themselves once their writes flush. */
  #maybeFinish(): void {
    if (this.#clientEnded && this.#upstreamEnded) {
      const b = this.#host.balancer;
      if (this.conn !== 0 && b.conns.inUse(this.conn))
        b.conns.setState(this.conn, TcpState.TIME_WAIT, this.#host.clock.now());
    }
  }

  #onTimeout = (): void => {
    const now = this.#host.clock.now();
    if (now - this.lastActivity < this.#idleMs) return;
    this.#host.counters[ProxyCounter.IDLE_TIMEOUTS]!++;
    this.destroy();
  };

  #onClientError = (): void => {
    this.#host.counters[ProxyCounter.CLIENT_ERRORS]!++;
    this.destroy();
  };

  #onUpstreamError = (): void => {
    this.#host.counters[ProxyCounter.UPSTREAM_ERRORS]!++;
    this.destroy();
  };

  #onClose = (): void => {
    if (this.client.destroyed && (this.upstream === null || this.upstream.destroyed)) this.#finish();
    else if (this.client.destroyed || this.upstream?.destroyed) this.destroy();
  };

  /** The engine expired the connection (expire_nodest_conn, flush): close both sides now. */
  expired(): void {
    this.conn = 0;
    this.#host.counters[ProxyCounter.EXPIRED]!++;
    this.destroy();
  }

  destroy(): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.client.destroy();
    this.upstream?.destroy();
    this.#finish();
  }

  /** Session over: the entry lingers as CLOSE (inactive, 10 s) like an IPVS connection, then expires. */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    const b = this.#host.balancer;
    if (this.conn !== 0 && b.conns.inUse(this.conn)) {
      const state = b.conns.state(this.conn);
      if (state !== TcpState.TIME_WAIT)
        b.conns.tcpTransition(this.conn, Dir.INPUT, 0x04, this.#host.clock.now());
    }
    this.#host.release(this);
  }
}
