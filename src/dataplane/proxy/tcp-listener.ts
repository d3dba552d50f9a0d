/**
 * A TCP virtual service in socket mode: listens on the VIP:port, schedules each accepted connection with
 * the engine (scheduler, persistence, thresholds, sorry server), connects to the chosen real server and
 * hands the pair to a TcpSession. A refused or timed-out connect is retried on another real server, up
 * to `maxAttempts` in all.
 */
import net from 'node:net';
import { formatIp, type IpAddress, parseIp } from '../../engine/addr.js';
import { newFlowKey } from '../../engine/schedulers/scheduler.js';
import type { Service } from '../../engine/service.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { DataPlaneService } from '../types.js';
import { ProxyCounter } from './counters.js';
import { buildProxyHeader } from './proxy-header.js';
import { ServiceRef } from './service-ref.js';
import { TcpSession, type TcpSessionHost } from './tcp-session.js';

export interface ListenerHost extends TcpSessionHost {
  /** The engine service for a key, looked up per connection (a reload may replace it). */
  /** Records (or, with null, forgets) the session holding a connection id. */
  hold(conn: number, session: TcpSession | null): void;
  /** A connect to this real server failed: a hint for the health checks. */
  onConnectFailure?(serviceKey: string, dest: number): void;
  readonly stopping: boolean;
}

export class TcpListener {
  config: DataPlaneService;
  readonly server: net.Server;
  readonly #host: ListenerHost;
  readonly #flow = newFlowKey();
  readonly maxAttempts: number;

  constructor(host: ListenerHost, config: DataPlaneService, maxAttempts = 3) {
    this.#host = host;
    this.config = config;
    this.maxAttempts = maxAttempts;
    // TCP_NODELAY is set per accepted socket (what the server option does too) so a reload can change it.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, this.#onConnection);
  }

  listen(): Promise<void> {
    const { address } = this.config;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          new TslvsError(
            ErrorCodes.ENVIRONMENT,
            `service ${this.config.name}: cannot listen on ${this.config.key}: ${err.code ?? err.message}`,
            {
              service: this.config.name,
              code: err.code,
            },
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen({ host: formatIp(address.addr), port: address.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        this.server.on('error', () => undefined);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #onConnection = (client: net.Socket): void => {
    const h = this.#host;
    h.counters[ProxyCounter.ACCEPTED]!++;
    if (h.stopping) {
      h.counters[ProxyCounter.REFUSED_STOPPING]!++;
      client.destroy();
      return;
    }
    if (this.config.tcpNoDelay) client.setNoDelay(true);
    const svc = this.#service();
    const ra = client.remoteAddress;
    const caddr = ra ? parseClient(ra) : null;
    if (!svc || !caddr) {
      h.counters[ProxyCounter.ADDRESS_UNPARSABLE]!++;
      client.destroy();
      return;
    }
    const session = new TcpSession(
      h,
      client,
      svc.id,
      this.config.idleTimeoutMs,
      caddr,
      client.remotePort ?? 0,
    );
    this.#dial(session, svc);
  };

  /** The session's flow key, rebuilt for each attempt (the scratch key is shared by all sessions). */
  #flowOf(session: TcpSession, svc: Service) {
    const flow = this.#flow;
    flow.proto = 6;
    flow.af = session.caddr.family;
    flow.saddr.set(session.caddr.words);
    flow.sport = session.cport;
    flow.daddr.set(svc.address.words);
    flow.dport = svc.port;
    return flow;
  }

  /** One connect attempt: the scheduler's pick first, then untried real servers, `maxAttempts` in all. */
  #dial(session: TcpSession, svc: Service): void {
    const h = this.#host;
    const b = h.balancer;
    const now = h.clock.now();
    let conn = 0;
    if (session.attempt === 0) conn = b.schedule(svc.id, this.#flowOf(session, svc), now);
    else {
      const tried = session.tried!;
      const dest = svc.list.find(
        (d) => !tried.includes(d) && b.dests.weight[d]! > 0 && !b.dests.isOverloaded(d),
      );
      if (dest !== undefined) {
        conn = b.createConn(svc, dest, this.#flowOf(session, svc), 0, now);
        h.counters[ProxyCounter.CONNECT_RETRIED]!++;
      }
    }
    if (conn === 0) {
      if (session.attempt === 0) h.counters[ProxyCounter.NO_DEST]!++;
      session.destroy();
      return;
    }
    session.attempt++;
    const dest = b.conns.dest(conn);
    session.conn = conn;
    h.hold(conn, session);
    const prefix =
      this.config.proxyProtocol === 'off'
        ? null
        : buildProxyHeader(
            this.config.proxyProtocol,
            false,
            session.caddr,
            session.cport,
            svc.address,
            svc.port,
          );
    session.connect(
      { host: this.#hostText(dest), port: b.conns.dport(conn), dest, noDelay: this.config.tcpNoDelay },
      this.config.connectTimeoutMs,
      prefix,
      this.#onDialed,
    );
  }

  #onDialed = (session: TcpSession, ok: boolean): void => {
    if (ok || session.closed) return;
    const h = this.#host;
    const b = h.balancer;
    const conn = session.conn;
    const dest = session.dest;
    h.onConnectFailure?.(this.config.key, dest);
    session.conn = 0;
    h.hold(conn, null);
    if (b.conns.inUse(conn)) b.conns.remove(conn);
    (session.tried ??= []).push(dest);
    const svc = this.#service();
    if (!svc || session.attempt >= this.maxAttempts) {
      session.destroy();
      return;
    }
    this.#dial(session, svc);
  };

  /** The engine's service for this listener. */
  #service(): Service | undefined {
    return this.#svc.get(this.#host.balancer.services, this.config.address);
  }

  readonly #svc = new ServiceRef('tcp');
  readonly #hosts: { addr: IpAddress; port: number; text: string }[] = [];

  /** A real server's address as text for net.connect, formatted once per real server. */
  #hostText(dest: number): string {
    const d = this.#host.balancer.dests;
    const c = this.#hosts[dest];
    if (c && d.matches(dest, c.addr, c.port)) return c.text;
    const addr = d.address(dest);
    const text = formatIp(addr);
    this.#hosts[dest] = { addr, port: d.port[dest]!, text };
    return text;
  }
}

/** Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; the VIP's family decides. */
function parseClient(text: string) {
  try {
    return parseIp(text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text);
  } catch {
    return null;
  }
}
