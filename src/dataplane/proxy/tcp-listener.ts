/**
 * A TCP virtual service in socket mode: listens on the VIP:port, schedules each accepted connection with
 * the engine (scheduler, persistence, thresholds, sorry server), connects to the chosen real server and
 * hands the pair to a TcpSession. A refused or timed-out connect is retried on another real server, up
 * to `maxAttempts` in all.
 */
import net from 'node:net';
import { formatIp, parseIp } from '../../engine/addr.js';
import { newFlowKey } from '../../engine/schedulers/scheduler.js';
import type { Service } from '../../engine/service.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { DataPlaneService } from '../types.js';
import { ProxyCounter } from './counters.js';
import { buildProxyHeader } from './proxy-header.js';
import { TcpSession, type TcpSessionHost } from './tcp-session.js';

export interface ListenerHost extends TcpSessionHost {
  /** The engine service for a key, looked up per connection (a reload may replace it). */
  service(key: string): Service | undefined;
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
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, (s) => {
      this.#accept(s).catch(() => s.destroy());
    });
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

  async #accept(client: net.Socket): Promise<void> {
    const h = this.#host;
    h.counters[ProxyCounter.ACCEPTED]!++;
    if (h.stopping) {
      h.counters[ProxyCounter.REFUSED_STOPPING]!++;
      client.destroy();
      return;
    }
    const svc = h.service(this.config.key);
    const caddr = client.remoteAddress ? parseClient(client.remoteAddress) : null;
    if (!svc || !caddr) {
      h.counters[ProxyCounter.ADDRESS_UNPARSABLE]!++;
      client.destroy();
      return;
    }
    // Nothing is read from the client until the real server answers: the kernel buffers and pushes back.
    client.pause();
    const flow = this.#flow;
    flow.proto = 6;
    flow.af = caddr.family;
    flow.saddr.set(caddr.words);
    flow.sport = client.remotePort ?? 0;
    flow.daddr.set(svc.address.words);
    flow.dport = svc.port;
    const session = new TcpSession(h, client, svc.id, this.config.idleTimeoutMs);
    const b = h.balancer;
    const tried: number[] = [];
    for (let attempt = 0; attempt < this.maxAttempts && !session.closed; attempt++) {
      const now = h.clock.now();
      let conn = attempt === 0 ? b.schedule(svc.id, flow, now) : 0;
      if (attempt > 0) {
        const dest = svc.list.find(
          (d) => !tried.includes(d) && b.dests.weight[d]! > 0 && !b.dests.isOverloaded(d),
        );
        if (dest === undefined) break;
        conn = b.createConn(svc, dest, flow, 0, now);
        h.counters[ProxyCounter.CONNECT_RETRIED]!++;
      }
      if (conn === 0) break;
      const dest = b.conns.dest(conn);
      tried.push(dest);
      session.conn = conn;
      h.hold(conn, session);
      const prefix =
        this.config.proxyProtocol === 'off'
          ? null
          : buildProxyHeader(this.config.proxyProtocol, false, caddr, flow.sport, svc.address, svc.port);
      const ok = await session.connect(
        { host: formatIp(b.dests.address(dest)), port: b.conns.dport(conn), dest },
        this.config.connectTimeoutMs,
        prefix,
      );
      if (ok) {
        client.resume();
        return;
      }
      h.onConnectFailure?.(this.config.key, dest);
      session.conn = 0;
      h.hold(conn, null);
      if (b.conns.inUse(conn)) b.conns.remove(conn);
    }
    if (tried.length === 0) h.counters[ProxyCounter.NO_DEST]!++;
    session.destroy();
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
