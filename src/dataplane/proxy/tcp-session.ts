/**
 * One proxied TCP connection: the client socket, the connection to the chosen real server, and the relay
 * between them with backpressure (a full side pauses the other), half-close (an end travels across, the
 * other direction keeps flowing) and an idle timeout over both directions. The session is the engine
 * connection's holder: it keeps the session-table entry's state in step with the sockets, and the engine
 * expiring the entry (expire_nodest_conn, flush) closes the sockets.
 *
 * Per chunk the relay only counts and writes: no clock read, no timer. Activity is a flag that the data
 * plane's sweep (every few hundred ms) turns into `lastActivity`, an idle check and one session-table
 * touch, so a busy connection costs the same as an idle one in timers.
 */
import net from 'node:net';
import type { IpAddress } from '../../engine/addr.js';
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
  noDelay: boolean;
}

export type ConnectDone = (session: TcpSession, ok: boolean) => void;

const CLIENT_ENDED = 1;
const UPSTREAM_ENDED = 2;
const CLOSED = 4;
const ACTIVE = 8;
const RELAYING = 16;
/** Client bytes read while the real server is dialled; past this the client is paused until connected. */
const EARLY_LIMIT = 64 * 1024;

export class TcpSession {
  readonly client: net.Socket;
  upstream: net.Socket | null = null;
  conn = 0;
  svc: number;
  dest = -1;
  /** Client address and port, kept for retries (the flow is rebuilt from them). */
  readonly caddr: IpAddress;
  readonly cport: number;
  /** Real servers tried so far, only allocated when a connect fails. */
  tried: number[] | null = null;
  attempt = 0;
  lastActivity: number;
  readonly idleMs: number;
  #host: TcpSessionHost;
  #flags = 0;
  #connectTimer: NodeJS.Timeout | null = null;
  #done: ConnectDone | null = null;
  /** PROXY header for the attempt in progress. */
  #prefix: Buffer | null = null;

  constructor(
    host: TcpSessionHost,
    client: net.Socket,
    svc: number,
    idleMs: number,
    caddr: IpAddress,
    cport: number,
  ) {
    this.#host = host;
    this.client = client;
    this.svc = svc;
    this.idleMs = idleMs;
    this.caddr = caddr;
    this.cport = cport;
    this.lastActivity = host.clock.now();
    // The client is read at once, like HAProxy fills its buffer while connecting: the first request is
    // usually there already, and it is replayed to the next real server if this connect fails.
    (client as Tagged)[kSession] = this;
    client.on('data', TcpSession.#clientData);
    client.on('end', TcpSession.#clientEnd);
    client.on('error', TcpSession.#clientError);
    client.on('close', TcpSession.#close);
  }

  // Listeners shared by every session (one function each, not a closure per session): a socket finds
  // its session under kSession.
  static #clientData = function (this: net.Socket, chunk: Buffer): void {
    of(this).#onClientData(chunk);
  };
  static #upstreamData = function (this: net.Socket, chunk: Buffer): void {
    of(this).#onUpstreamData(chunk);
  };
  static #clientDrain = function (this: net.Socket): void {
    of(this).#onClientDrain();
  };
  static #upstreamDrain = function (this: net.Socket): void {
    of(this).#onUpstreamDrain();
  };
  static #clientEnd = function (this: net.Socket): void {
    of(this).#onClientEnd();
  };
  static #upstreamEnd = function (this: net.Socket): void {
    of(this).#onUpstreamEnd();
  };
  static #clientError = function (this: net.Socket): void {
    of(this).#onClientError();
  };
  static #upstreamError = function (this: net.Socket): void {
    of(this).#onUpstreamError();
  };
  static #close = function (this: net.Socket): void {
    of(this).#onClose();
  };
  static #connectError = function (this: net.Socket): void {
    of(this).#onConnectError();
  };
  static #connected = function (this: net.Socket): void {
    of(this).#onConnected();
  };
  static #connectTimeout = (session: TcpSession): void => {
    session.#onConnectTimeout();
  };

  #early: Buffer[] | null = null;
  #earlyBytes = 0;

  get closed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }

  /**
   * Connects to `to` (prefix = PROXY header to send first). `done(session, ok)` follows once: ok when
   * connected and relaying, not ok when the attempt failed (refused, unreachable, timeout), so the
   * caller may retry another real server.
   */
  connect(to: Upstream, connectTimeoutMs: number, prefix: Buffer | null, done: ConnectDone): void {
    this.dest = to.dest;
    this.#done = done;
    const up = net.connect({ host: to.host, port: to.port, allowHalfOpen: true, noDelay: to.noDelay });
    (up as Tagged)[kSession] = this;
    this.upstream = up;
    this.#prefix = prefix;
    this.#connectTimer = setTimeout(TcpSession.#connectTimeout, connectTimeoutMs, this);
    up.on('error', TcpSession.#connectError);
    up.on('connect', TcpSession.#connected);
  }

  #settle(ok: boolean): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    const done = this.#done;
    this.#done = null;
    this.#prefix = null;
    done?.(this, ok);
  }

  #failConnect(counter: number): void {
    if (!this.#done) return;
    const up = this.upstream!;
    up.removeListener('connect', TcpSession.#connected);
    up.removeListener('error', TcpSession.#connectError);
    up.on('error', noop);
    up.destroy();
    this.upstream = null;
    this.#host.counters[counter]!++;
    this.#settle(false);
  }

  #onConnectTimeout(): void {
    this.#failConnect(ProxyCounter.CONNECT_TIMEOUT);
  }
  #onConnectError(): void {
    this.#failConnect(ProxyCounter.CONNECT_FAILED);
  }

  #onConnected(): void {
    if (!this.#done) return;
    const up = this.upstream!;
    up.removeListener('error', TcpSession.#connectError);
    if (this.closed) {
      up.on('error', noop);
      up.destroy();
      this.upstream = null;
      this.#settle(false);
      return;
    }
    this.#startRelay(up);
    this.#settle(true);
  }

  #startRelay(up: net.Socket): void {
    this.#host.balancer.conns.setState(this.conn, TcpState.ESTABLISHED, this.#host.clock.now());
    this.#flags |= RELAYING;
    up.on('data', TcpSession.#upstreamData);
    this.client.on('drain', TcpSession.#clientDrain);
    up.on('drain', TcpSession.#upstreamDrain);
    up.on('end', TcpSession.#upstreamEnd);
    up.on('error', TcpSession.#upstreamError);
    up.on('close', TcpSession.#close);
    if (this.#prefix) up.write(this.#prefix);
    const early = this.#early;
    this.#early = null;
    this.#earlyBytes = 0;
    let more = true;
    if (early) for (const chunk of early) more = this.#forward(chunk);
    if (this.#flags & CLIENT_ENDED) {
      up.end();
      this.#maybeFinish();
    } else if (more && this.client.isPaused()) this.client.resume();
  }

  #onClientData(chunk: Buffer): void {
    if (this.#flags & RELAYING) {
      if (!this.#forward(chunk)) this.client.pause();
      return;
    }
    (this.#early ??= []).push(chunk);
    this.#earlyBytes += chunk.length;
    if (this.#earlyBytes >= EARLY_LIMIT) this.client.pause();
  }

  /** Client to real server; false when the real server's socket is full (the caller pauses the client). */
  #forward(chunk: Buffer): boolean {
    this.#flags |= ACTIVE;
    const b = this.#host.balancer;
    b.services.stats.inPacket(this.svc, chunk.length);
    b.dests.stats.inPacket(this.dest, chunk.length);
    return this.upstream!.write(chunk);
  }

  #onUpstreamData(chunk: Buffer): void {
    this.#flags |= ACTIVE;
    const b = this.#host.balancer;
    b.services.stats.outPacket(this.svc, chunk.length);
    b.dests.stats.outPacket(this.dest, chunk.length);
    if (!this.client.write(chunk)) this.upstream!.pause();
  }

  #onClientDrain(): void {
    this.upstream?.resume();
  }

  #onUpstreamDrain(): void {
    this.client.resume();
  }

  #onClientEnd(): void {
    this.#flags |= CLIENT_ENDED | ACTIVE;
    // While dialling, the end waits with the early data and follows it once connected.
    if (!(this.#flags & RELAYING)) return;
    this.upstream?.end();
    this.#maybeFinish();
  }

  #onUpstreamEnd(): void {
    this.#flags |= UPSTREAM_ENDED | ACTIVE;
    this.client.end();
    this.#maybeFinish();
  }

  /** Both halves closed: the sockets close themselves once their writes flush. */
  #maybeFinish(): void {
    if ((this.#flags & (CLIENT_ENDED | UPSTREAM_ENDED)) === (CLIENT_ENDED | UPSTREAM_ENDED)) {
      const b = this.#host.balancer;
      if (this.conn !== 0 && b.conns.inUse(this.conn))
        b.conns.setState(this.conn, TcpState.TIME_WAIT, this.#host.clock.now());
    }
  }

  /**
   * The data plane's periodic sweep: folds activity since the last sweep into `lastActivity` and the
   * session-table entry's timer, or closes the session once idle for `idleMs`.
   */
  sweep(now: number): void {
    if (this.closed) return;
    if (this.#flags & ACTIVE) {
      this.#flags &= ~ACTIVE;
      this.lastActivity = now;
      const conns = this.#host.balancer.conns;
      if (this.conn !== 0 && conns.inUse(this.conn)) conns.touch(this.conn, now);
      return;
    }
    if (this.idleMs > 0 && this.#done === null && now - this.lastActivity >= this.idleMs) {
      this.#host.counters[ProxyCounter.IDLE_TIMEOUTS]!++;
      this.destroy();
    }
  }

  #onClientError(): void {
    this.#host.counters[ProxyCounter.CLIENT_ERRORS]!++;
    this.destroy();
  }

  #onUpstreamError(): void {
    this.#host.counters[ProxyCounter.UPSTREAM_ERRORS]!++;
    this.destroy();
  }

  #onClose(): void {
    const up = this.upstream;
    if (this.#done) this.destroy();
    else if (this.client.destroyed && (up === null || up.destroyed)) this.#finish();
    else if (this.client.destroyed || up?.destroyed) this.destroy();
  }

  /** The engine expired the connection (expire_nodest_conn, flush): close both sides now. */
  expired(): void {
    this.conn = 0;
    this.#host.counters[ProxyCounter.EXPIRED]!++;
    this.destroy();
  }

  /** Closes both sides now. While dialling, the attempt ends too (reported not ok, and not retried). */
  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
    this.#finish();
    if (this.#done) this.#settle(false);
  }

  /** Session over: the entry lingers as CLOSE (inactive, 10 s) like an IPVS connection, then expires. */
  #finish(): void {
    if (this.closed) return;
    this.#flags |= CLOSED;
    const b = this.#host.balancer;
    if (this.conn !== 0 && b.conns.inUse(this.conn)) {
      const state = b.conns.state(this.conn);
      if (state !== TcpState.TIME_WAIT)
        b.conns.tcpTransition(this.conn, Dir.INPUT, 0x04, this.#host.clock.now());
    }
    this.#host.release(this);
  }
}

function noop(): void {}

const kSession = Symbol('tslvs.session');
type Tagged = net.Socket & { [kSession]?: TcpSession };

function of(socket: net.Socket): TcpSession {
  return (socket as Tagged)[kSession]!;
}
