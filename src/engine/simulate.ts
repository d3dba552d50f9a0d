/**
 * "Where does this flow go?": runs the real engine (scheduler, persistence, session table, state
 * machine) on a described service and a described sequence of packets, and reports the real server and
 * the session state after each packet. Pure: a fresh engine is built from the description every call, so
 * the answer never disturbs a running balancer. Tests use it, and so does the CLI (`tslvs adm
 * --simulate`), with the daemon's current state exported as the model.
 */
import { formatEndpoint, parseEndpoint } from './addr.js';
import { Balancer } from './balancer.js';
import { Dir, TCP_STATE_NAMES, TcpFlag } from './conntable/tcp-states.js';
import { FORWARDING_NAMES, type ForwardingName, forwardingFromName } from './forwarding.js';
import type { SchedulerName, SchedulerOptions } from './schedulers/names.js';
import { newFlowKey } from './schedulers/scheduler.js';
import type { PersistenceSpec, ProtoName } from './service.js';

export interface SimRealServer {
  address: string;
  weight: number;
  activeConns?: number;
  inactiveConns?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  forwarding?: ForwardingName;
  /** False = taken out by health checks. */
  up?: boolean;
}

export interface SimService {
  name: string;
  protocol: ProtoName;
  address: string;
  scheduler: SchedulerName;
  schedulerOptions?: Partial<SchedulerOptions>;
  persistence?: PersistenceSpec | null;
  forwarding?: ForwardingName;
  sorryServer?: string | null;
  realServers: SimRealServer[];
}

export interface SimPacket {
  /** 'in' = client -> VIP, 'out' = RS reply through the director. */
  dir: 'in' | 'out';
  /** TCP flags as tcpdump letters: S, A, F, R, P (e.g. 'SA'). Ignored for UDP. */
  flags?: string;
  /** Time since the previous packet, ms. */
  afterMs?: number;
}

export interface SimStep {
  packet: SimPacket;
  state: string;
  timeoutMs: number;
  realServer: string | null;
  note?: string;
}

export interface SimResult {
  service: string;
  realServer: string | null;
  forwarding: ForwardingName | null;
  steps: SimStep[];
}

export function parseTcpFlags(s: string): number {
  let f = 0;
  for (const ch of s.toUpperCase()) {
    const bit = { S: TcpFlag.SYN, A: TcpFlag.ACK, F: TcpFlag.FIN, R: TcpFlag.RST, P: TcpFlag.PSH }[ch];
    if (bit === undefined) throw new RangeError(`unknown TCP flag '${ch}' (use S, A, F, R, P)`);
    f |= bit;
  }
  return f;
}

/** Runs `packets` of one flow from `client` (ip:port) through `service`; the first packet schedules. */
export function simulateFlow(
  service: SimService,
  client: string,
  packets: SimPacket[] = [{ dir: 'in', flags: 'S' }],
): SimResult {
  const b = new Balancer({ conntable: { capacity: 1024, seed: 1 }, random: () => 0.5 });
  const vip = parseEndpoint(service.address);
  const svc = b.services.add({
    name: service.name,
    protocol: service.protocol,
    address: vip.addr,
    port: vip.port,
    scheduler: service.scheduler,
    schedulerOptions: service.schedulerOptions ?? {},
    persistence: service.persistence ?? null,
    forwarding: forwardingFromName(service.forwarding ?? 'dr'),
  });
  // Added in reverse so the scheduling list is in the order given (IPVS links new dests at the head).
  for (const rs of [...service.realServers].reverse()) {
    const ep = parseEndpoint(rs.address);
    const id = svc.addDest({
      address: ep.addr,
      port: ep.port,
      weight: rs.weight,
      upperThreshold: rs.upperThreshold ?? 0,
      lowerThreshold: rs.lowerThreshold ?? 0,
      ...(rs.forwarding ? { forwarding: forwardingFromName(rs.forwarding) } : {}),
    });
    b.dests.activeConns[id] = rs.activeConns ?? 0;
    b.dests.inactConns[id] = rs.inactiveConns ?? 0;
    b.dests.checkOverloadOnBind(id);
    if (rs.up === false) svc.unlink(id);
  }
  if (service.sorryServer) b.setSorryServer(svc, parseEndpoint(service.sorryServer));
  const c = parseEndpoint(client);
  const flow = newFlowKey();
  flow.proto = service.protocol === 'tcp' ? 6 : 17;
  flow.af = c.addr.family;
  flow.saddr.set(c.addr.words);
  flow.sport = c.port;
  flow.daddr.set(vip.addr.words);
  flow.dport = vip.port;

  let now = 1_000_000;
  let id = 0;
  let forwarding: ForwardingName | null = null;
  const steps: SimStep[] = [];
  const rsText = () =>
    id
      ? formatEndpoint({ addr: b.dests.address(b.conns.dest(id)), port: b.dests.port[b.conns.dest(id)]! })
      : null;
  for (const p of packets) {
    now += p.afterMs ?? 0;
    const flags = parseTcpFlags(p.flags ?? '');
    let note: string | undefined;
    if (id && !b.conns.inUse(id)) id = 0;
    if (id === 0 && p.dir === 'in') {
      id = b.conns.lookupIn(flow, now);
      const schedules = flow.proto === 17 || (flags & TcpFlag.SYN && !(flags & TcpFlag.RST));
      if (id === 0 && schedules) {
        id = b.schedule(svc.id, flow, now);
        if (id === 0) note = 'no real server available: dropped (ICMP unreachable)';
      } else if (id === 0) note = 'no session and not a SYN: dropped';
    } else if (id === 0) note = 'reply without a session: not ours';
    if (id) {
      forwarding ??= FORWARDING_NAMES[b.conns.fwd(id)]!;
      const dir = p.dir === 'in' ? Dir.INPUT : Dir.OUTPUT;
      if (flow.proto === 6) b.conns.tcpTransition(id, dir, flags, now);
      else b.conns.udpTransition(id, dir, now);
    }
    steps.push({
      packet: p,
      state: id ? (flow.proto === 6 ? TCP_STATE_NAMES[b.conns.state(id)]! : 'UDP') : 'NONE',
      timeoutMs: id ? b.conns.remainingMs(id, now) : 0,
      realServer: rsText(),
      ...(note ? { note } : {}),
    });
  }
  return {
    service: service.name,
    realServer: steps.find((s) => s.realServer)?.realServer ?? null,
    forwarding,
    steps,
  };
}
