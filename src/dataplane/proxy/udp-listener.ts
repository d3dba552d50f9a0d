/**
 * A UDP virtual service in socket mode. Each client address:port is a session in the engine's session
 * table (scheduler, persistence, UDP timeout); each session has its own socket connected to its real
 * server, so replies map back to their client and leave from the VIP's socket. The session's socket is
 * closed when the engine expires the session.
 */
import dgram from 'node:dgram';
import { formatIp, type IpAddress, parseIpv4Word, tryParseIp } from '../../engine/addr.js';
import type { Balancer } from '../../engine/balancer.js';
import type { Clock } from '../../engine/clock.js';
import { Dir } from '../../engine/conntable/tcp-states.js';
import { newFlowKey } from '../../engine/schedulers/scheduler.js';
import type { Service } from '../../engine/service.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { DataPlaneService } from '../types.js';
import { ProxyCounter } from './counters.js';
import { buildProxyHeader } from './proxy-header.js';
import { ServiceRef } from './service-ref.js';

export interface UdpHost {
  readonly balancer: Balancer;
  readonly clock: Clock;
  readonly counters: Float64Array;
  readonly stopping: boolean;
  hold(conn: number, session: UdpSession | null): void;
  held(conn: number): unknown;
}

const QUEUE_FULL = new Error('datagram queue full while the real server socket connects');

export class UdpSession {
  readonly socket: dgram.Socket;
  readonly conn: number;
  readonly svc: number;
  readonly dest: number;
  prefix: Buffer | null;
  /** Datagrams that arrived before the session's socket finished connecting (bounded). */
  pending: Buffer[] | null = [];
  #closed = false;

  constructor(socket: dgram.Socket, conn: number, svc: number, dest: number, prefix: Buffer | null) {
    this.socket = socket;
    this.conn = conn;
    this.svc = svc;
    this.dest = dest;
    this.prefix = prefix;
  }

  expired(): void {
    this.close();
  }

  /** Sends to the real server, queueing (up to 64 datagrams) while the socket connects. */
  send(msg: Buffer, onSent: (err: Error | null) => void): void {
    if (this.#closed) return;
    if (this.pending) {
      if (this.pending.length < 64) this.pending.push(msg);
      else onSent(QUEUE_FULL);
      return;
    }
    // No callback: a send that completes at once then costs no completion round; failures arrive as the
    // socket's 'error' events, which are counted.
    this.socket.send(msg);
  }

  connected(onSent: (err: Error | null) => void): void {
    const queued = this.pending ?? [];
    this.pending = null;
    for (const m of queued) this.send(m, onSent);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.close();
  }
}

export class UdpListener {
  config: DataPlaneService;
  readonly socket: dgram.Socket;
  readonly #host: UdpHost;
  readonly #flow = newFlowKey();
  readonly #sessions = new Set<UdpSession>();

  constructor(host: UdpHost, config: DataPlaneService) {
    this.#host = host;
    this.config = config;
    this.socket = dgram.createSocket({
      type: config.address.addr.family === 4 ? 'udp4' : 'udp6',
      lookup: literalLookup,
    });
    this.socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  listen(): Promise<void> {
    const { address } = this.config;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(
          new TslvsError(
            ErrorCodes.ENVIRONMENT,
            `service ${this.config.name}: cannot bind ${this.config.key}: ${err.code ?? err.message}`,
            {
              service: this.config.name,
              code: err.code,
            },
          ),
        );
      this.socket.once('error', onError);
      this.socket.bind({ address: formatIp(address.addr), port: address.port }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', () => this.#host.counters[ProxyCounter.UDP_SEND_ERRORS]!++);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.close();
    for (const s of this.#sessions) s.close();
    this.#sessions.clear();
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const h = this.#host;
    h.counters[ProxyCounter.UDP_DATAGRAMS_IN]!++;
    const svc = this.#service();
    const flow = this.#flow;
    // IPv4 clients are parsed straight into the flow key; anything else goes through the full parser.
    const w = parseIpv4Word(rinfo.address);
    if (w >= 0) {
      flow.af = 4;
      flow.saddr[0] = w;
      flow.saddr[1] = flow.saddr[2] = flow.saddr[3] = 0;
    } else {
      const a = tryParseIp(rinfo.address);
      if (!a) {
        h.counters[ProxyCounter.ADDRESS_UNPARSABLE]!++;
        return;
      }
      flow.af = a.family;
      flow.saddr.set(a.words);
    }
    if (!svc) return;
    const b = h.balancer;
    const now = h.clock.now();
    flow.proto = 17;
    flow.sport = rinfo.port;
    flow.daddr.set(svc.address.words);
    flow.dport = svc.port;
    let conn = b.conns.lookupIn(flow, now);
    let session = conn !== 0 ? (h.held(conn) as UdpSession | undefined) : undefined;
    if (!session) {
      if (h.stopping) return;
      if (conn === 0) conn = b.schedule(svc.id, flow, now);
      if (conn === 0) {
        h.counters[ProxyCounter.UDP_NO_DEST]!++;
        return;
      }
      const caddr: IpAddress = {
        family: flow.af as 4 | 6,
        words: [flow.saddr[0]!, flow.saddr[1]!, flow.saddr[2]!, flow.saddr[3]!],
      };
      session = this.#open(svc, conn, caddr, rinfo.port);
    }
    b.conns.udpTransition(conn, Dir.INPUT, now);
    b.services.stats.inPacket(svc.id, msg.length);
    b.dests.stats.inPacket(session.dest, msg.length);
    const out = session.prefix ? Buffer.concat([session.prefix, msg]) : msg;
    session.send(out, this.#onSent);
  }

  /** The engine's service for this listener. */
  #service(): Service | undefined {
    return this.#svc.get(this.#host.balancer.services, this.config.address);
  }

  readonly #svc = new ServiceRef('udp');

  /** One callback for every send (no closure per datagram). */
  #onSent = (err: Error | null): void => {
    if (err) this.#host.counters[ProxyCounter.UDP_SEND_ERRORS]!++;
  };

  #open(svc: Service, conn: number, caddr: IpAddress, cport: number): UdpSession {
    const h = this.#host;
    const b = h.balancer;
    const dest = b.conns.dest(conn);
    const rs = b.dests.address(dest);
    const socket = dgram.createSocket({ type: rs.family === 4 ? 'udp4' : 'udp6', lookup: literalLookup });
    const prefix =
      this.config.proxyProtocol === 'v2'
        ? buildProxyHeader('v2', true, caddr, cport, svc.address, svc.port)
        : null;
    const session = new UdpSession(socket, conn, svc.id, dest, prefix);
    const clientHost = formatIp(caddr);
    socket.on('message', (reply) => {
      const now = h.clock.now();
      if (b.conns.inUse(conn) && h.held(conn) === session) b.conns.udpTransition(conn, Dir.OUTPUT, now);
      b.services.stats.outPacket(session.svc, reply.length);
      b.dests.stats.outPacket(dest, reply.length);
      h.counters[ProxyCounter.UDP_DATAGRAMS_OUT]!++;
      this.socket.send(reply, cport, clientHost);
    });
    socket.on('error', () => h.counters[ProxyCounter.UDP_SEND_ERRORS]!++);
    socket.on('close', () => {
      this.#sessions.delete(session);
      if (h.held(conn) === session) h.hold(conn, null);
    });
    socket.connect(b.conns.dport(conn), formatIp(rs), () => session.connected(this.#onSent));
    this.#sessions.add(session);
    h.hold(conn, session);
    h.counters[ProxyCounter.UDP_SESSIONS]!++;
    return session;
  }
}

/**
 * Every address this listener sends to is an IP literal it formatted itself; answering the lookup at once
 * spares the default lookup's deferral (a tick per datagram sent from the VIP's socket).
 */
function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, typeof family === 'number' ? family : address.includes(':') ? 6 : 4);
}
