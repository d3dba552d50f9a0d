/**
 * The packet pipeline: one frame in, a verdict out, 0..n frames sent through the interface sinks.
 *
 *   ARP / NS for our addresses        -> reply (and neighbours learned)
 *   TCP/UDP to a VIP                   -> session (lookup, or a new one for a SYN / any UDP datagram, as
 *                                         IPVS tcp_conn_schedule / udp_conn_schedule) -> state tracking,
 *                                         counters -> the session's forwarder, client -> RS
 *   TCP/UDP matching a NAT/FNAT reply  -> state tracking, counters -> forwarder, RS -> client
 *   ICMP error quoting a session       -> translated / relayed (forward/icmp-relay.ts)
 *   anything else                      -> pass (the kernel sees every frame anyway)
 *
 * Nothing here allocates per frame: one Packet per batch slot, reused views, typed-array counters.
 * `processBatch` looks the sessions of a whole batch up at once (batch.ts), which is what keeps a
 * 10M-entry table fast.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { checksumOk, pseudoSumV4, pseudoSumV6At } from '../../wire/checksum.js';
import { Icmpv4Code, Icmpv4Type, Icmpv6Type } from '../../wire/icmp.js';
import { IpProto } from '../../wire/ipv4.js';
import { Reason } from '../../wire/reasons.js';
import { type Balancer, BalancerStat } from '../balancer.js';
import { BATCH_MAX } from '../conntable/hash-index.js';
import { CF } from '../conntable/layout.js';
import { Dir, TcpState } from '../conntable/tcp-states.js';
import { IcmpRelay } from '../forward/icmp-relay.js';
import { FnatState, type FwdContext, fnatOnCreate, toClient, toServer } from '../forward/index.js';
import { Forwarding } from '../forwarding.js';
import { NeighbourTable } from '../neighbours.js';
import { BatchLookups } from './batch.js';
import {
  type PipelineOptions,
  type ResolvedConfig,
  resolveConfig,
  ServiceOptionsTable,
  type ServicePipelineOptions,
} from './config.js';
import { EchoResponder, NOT_ECHO } from './echo.js';
import { Egress } from './egress.js';
import { type ForwardObserver, type FrameSink, type PipelineFrame, Verdict } from './frame.js';
import { NeighbourInput } from './neigh-input.js';
import { Kind, Packet, parseFrame, Views } from './packet.js';
import { DROP_COUNT, DROP_NAMES, Drop, PASS_NAMES, Pass, STAT_NAMES, Stat } from './reasons.js';

const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

export class Pipeline {
  readonly balancer: Balancer;
  readonly config: ResolvedConfig;
  readonly neighbours: NeighbourTable;
  /** Per drop code (DROP_NAMES), per pass reason (PASS_NAMES), per verdict, and events (STAT_NAMES). */
  readonly drops = new Float64Array(DROP_COUNT);
  readonly passes = new Float64Array(PASS_NAMES.length);
  readonly verdicts = new Float64Array(4);
  readonly stats = new Float64Array(STAT_NAMES.length);
  /** Drop code or pass reason of the last frame that was dropped or passed (tests, tracing). */
  lastReason = 0;
  readonly #views = new Views();
  readonly #packets: Packet[] = [];
  readonly #ctx: FwdContext;
  readonly #eg: Egress;
  readonly #neighIn: NeighbourInput;
  readonly #icmp = new IcmpRelay();
  readonly #echo: EchoResponder;
  readonly #svcOpts = new ServiceOptionsTable();
  readonly #look = new BatchLookups();
  readonly #parsed = new Int32Array(BATCH_MAX);
  /** Bumped whenever a session may have been freed: batch lookup results are stale after it. */
  #epoch = 0;
  /** Bumped whenever a session is created: a batch lookup's miss may be stale after it. */
  #created = 0;
  #observer: ForwardObserver | null = null;

  constructor(balancer: Balancer, sinks: readonly FrameSink[], options: PipelineOptions) {
    this.balancer = balancer;
    this.config = resolveConfig(options);
    if (sinks.length !== this.config.ifCount) {
      throw new TslvsError(
        ErrorCodes.CONFIG,
        `pipeline: ${sinks.length} sinks for ${this.config.ifCount} interfaces (one per interface)`,
      );
    }
    this.neighbours = new NeighbourTable(options.neighbours);
    for (const s of this.config.staticNeighbours) this.neighbours.setStatic(s.address, s.mac);
    for (let i = 0; i < BATCH_MAX; i++) this.#packets.push(new Packet());
    this.#eg = new Egress(this.config, sinks, this.neighbours, this.stats);
    this.#neighIn = new NeighbourInput(
      this.config,
      balancer.services,
      balancer.lips,
      this.neighbours,
      this.#eg,
      this.stats,
    );
    this.#echo = new EchoResponder(this.config, this.#eg, this.#neighIn, this.stats);
    this.#ctx = {
      p: this.#packets[0]!,
      eg: this.#eg,
      cfg: this.config,
      conns: balancer.conns,
      dests: balancer.dests,
      services: balancer.services,
      lips: balancer.lips,
      svcOpts: this.#svcOpts,
      stats: this.stats,
      fnat: new FnatState(balancer.conns.capacity),
      now: 0,
      ipIdent: 0,
    };
  }

  /** The Full-NAT forwarder's per-session state (session sync carries its first data sequence numbers). */
  get fnatState(): FnatState {
    return this.#ctx.fnat;
  }

  /** Full-NAT options of a service (PROXY protocol, TOA). */
  setServiceOptions(svcId: number, o: ServicePipelineOptions): void {
    this.#svcOpts.set(svcId, o);
  }

  /** Who is told of each packet forwarded as one frame (null: nobody; the hot path then pays one test). */
  setForwardObserver(o: ForwardObserver | null): void {
    this.#observer = o;
  }

  clearServiceOptions(svcId: number): void {
    this.#svcOpts.clear(svcId);
  }

  /** Whether ARP / NS for VIPs and Full-NAT local addresses are answered (the VRRP master answers, a backup must not). */
  set answerVips(on: boolean) {
    this.#neighIn.answerVips = on;
  }
  get answerVips(): boolean {
    return this.#neighIn.answerVips;
  }

  /**
   * VRRP: the virtual addresses of the instances this director is master of (`owned`; VIPs, and others
   * such as a NAT gateway), and those of every instance (`managed`): a managed address is answered only
   * while owned; Full-NAT local addresses and VIPs no instance manages whenever `answerVips` is on.
   */
  setVirtualAddresses(
    owned: readonly { family: number; words: readonly number[] }[],
    managed: readonly { family: number; words: readonly number[] }[] = owned,
  ): void {
    this.#neighIn.setVirtualAddresses(owned, managed);
  }

  /** One frame. */
  process(f: PipelineFrame, now: number): number {
    const p = this.#packets[0]!;
    this.#ctx.p = p;
    return this.#dispatch(parseFrame(f, p, this.#views, this.config), now, -1, -1);
  }

  /**
   * `count` frames (at most BATCH_MAX per call; more are processed in chunks); each frame's verdict goes
   * to `out[k]`. The in-direction sessions of the batch are looked up together first.
   */
  processBatch(frames: readonly PipelineFrame[], count: number, now: number, out: Uint8Array): void {
    const look = this.#look;
    const services = this.balancer.services;
    for (let base = 0; base < count; base += BATCH_MAX) {
      const n = Math.min(BATCH_MAX, count - base);
      look.reset();
      for (let k = 0; k < n; k++) {
        const p = this.#packets[k]!;
        const r = parseFrame(frames[base + k]!, p, this.#views, this.config);
        this.#parsed[k] = r;
        look.add(k, r, p, services);
      }
      look.run(this.balancer.conns, now, this.#epoch, this.#created);
      for (let k = 0; k < n; k++) {
        this.#ctx.p = this.#packets[k]!;
        const pre = look.pre(k, this.#epoch, this.#created);
        out[base + k] = this.#dispatch(this.#parsed[k]!, now, pre, look.vip[k]!);
      }
    }
  }

  /** Housekeeping between batches: session expiry (bounded) and scheduler caches. */
  tick(now: number, budget = 4096): void {
    if (this.balancer.tick(now, budget) > 0) this.#epoch++;
  }

  #drop(code: number): number {
    this.drops[code]!++;
    this.verdicts[Verdict.DROP]!++;
    this.lastReason = code;
    return Verdict.DROP;
  }

  #pass(reason: number): number {
    this.passes[reason]!++;
    this.verdicts[Verdict.PASS]!++;
    this.lastReason = reason;
    return Verdict.PASS;
  }

  /** A handler result: 0 = sent with verdict `sent`, > 0 drop, < 0 pass. */
  #result(r: number, sent: number): number {
    if (r === 0) {
      this.verdicts[sent]!++;
      return sent;
    }
    return r > 0 ? this.#drop(r) : this.#pass(-r - 1);
  }

  /**
   * `pre`: the batch lookup's session (> 0), none (0), or -1 to look it up; `vip`: isVip already known
   * (1/0) or not (-1).
   */
  #dispatch(r: number, now: number, pre: number, vip: number): number {
    if (r !== 0) return r > 0 ? this.#drop(r) : this.#pass(-r - 1);
    const p = this.#ctx.p;
    this.#ctx.now = now;
    this.#eg.now = now;
    if (p.kind === Kind.ARP) return this.#result(this.#neighIn.arp(p, now), Verdict.REPLY);
    const proto = p.proto;
    if (proto === IpProto.TCP || proto === IpProto.UDP) {
      if (vip === 1 || (vip < 0 && this.balancer.services.isVip(p.af, p.daddr, 0)))
        return this.#inbound(now, pre);
      if (p.frag || !p.portsOk) return this.#pass(Pass.NOT_OURS);
      const conn =
        pre >= 0
          ? pre
          : this.balancer.conns.lookupOut(proto, p.af, p.saddr, 0, p.sport, p.daddr, 0, p.dport, now);
      return conn === 0 ? this.#pass(Pass.NOT_OURS) : this.#outbound(conn, now);
    }
    if (p.af === 6 && proto === IpProto.ICMPV6 && !p.frag && p.l4Len >= 8) {
      const t = p.buf[p.l4Off]!;
      if (t === Icmpv6Type.NEIGHBOR_SOLICIT || t === Icmpv6Type.NEIGHBOR_ADVERT) {
        return this.#result(this.#neighIn.nd(p, now), Verdict.REPLY);
      }
    }
    if ((p.af === 4 && proto === IpProto.ICMP) || (p.af === 6 && proto === IpProto.ICMPV6)) {
      const echo = this.#echo.reply(p, now);
      if (echo !== NOT_ECHO) return this.#result(echo, Verdict.REPLY);
      return this.#result(this.#icmp.relay(this.#ctx), Verdict.FORWARD);
    }
    return this.#pass(Pass.NOT_OURS);
  }

  /** Verifies the L4 checksum per policy (CHECKSUM_PARTIAL frames have none yet). */
  #l4Ok(p: Packet): boolean {
    const pol = this.config.checksums.verifyL4;
    if (p.partial || pol === 'never' || (pol === 'auto' && p.csumValid)) return true;
    const b = p.buf;
    let len = p.l4Len;
    if (p.proto === IpProto.UDP) {
      if (b[p.l4Off + 6] === 0 && b[p.l4Off + 7] === 0) return p.af === 4;
      len = (b[p.l4Off + 4]! << 8) | b[p.l4Off + 5]!;
    }
    const pseudo =
      // IPv4: from the addresses parseFrame already read, rather than their 8 bytes again.
      p.af === 4
        ? pseudoSumV4(p.saddrI32[0]!, p.daddrI32[0]!, p.proto, len)
        : pseudoSumV6At(b, p.l3Off, p.proto, len);
    const ok = checksumOk(b, p.l4Off, len, pseudo);
    p.l4Verified = ok;
    return ok;
  }

  #badSum(p: Packet): number {
    return this.#drop(p.proto === IpProto.TCP ? Reason.BAD_TCP_CHECKSUM : Reason.BAD_UDP_CHECKSUM);
  }

  /** IPVS conn_reuse_mode 1: an uncontrolled session in TIME_WAIT / CLOSE may be replaced by a new SYN. */
  #reusable(conn: number): boolean {
    const c = this.balancer.conns;
    const s = c.state(conn);
    return c.control(conn) === 0 && (s === TcpState.TIME_WAIT || s === TcpState.CLOSE);
  }

  #inbound(now: number, pre: number): number {
    const p = this.#ctx.p;
    if (p.frag) return this.#drop(Drop.FRAGMENT);
    if (!p.portsOk) return this.#drop(p.l4Reason);
    const b = this.balancer;
    const conns = b.conns;
    let conn = pre >= 0 ? pre : conns.lookupIn(p, now);
    const tcp = p.proto === IpProto.TCP;
    const fl = p.tcpFlags;
    const newSyn = tcp && (fl & (SYN | ACK | RST)) === SYN;
    if (conn !== 0 && newSyn && this.config.connReuse && this.#reusable(conn)) {
      conns.remove(conn);
      this.#epoch++;
      this.stats[Stat.CONNS_REUSED]!++;
      conn = 0;
    }
    if (p.l4Reason !== Reason.OK) return this.#drop(p.l4Reason);
    if (!this.#l4Ok(p)) return this.#badSum(p);
    if (conn === 0) {
      const svc = b.services.find(p.proto, p.af, p.daddr, 0, p.dport);
      if (svc < 0) return this.#pass(Pass.NO_SERVICE);
      if (tcp && (!(fl & SYN) || fl & RST)) return this.#drop(Drop.NOT_SYN_NO_SESSION);
      if (conns.count >= conns.capacity) this.#epoch++; // creation may evict a session
      conn = b.schedule(svc, p, now);
      if (conn === 0) return this.#scheduleFailed();
      this.#created++;
      this.stats[Stat.CONNS_CREATED]!++;
      if (conns.fwd(conn) === Forwarding.FNAT) fnatOnCreate(this.#ctx, conn);
    } else if (!b.dests.isAvailable(conns.dest(conn))) {
      if (this.config.expireNodestConn) {
        conns.remove(conn);
        this.#epoch++;
      }
      return this.#drop(Drop.DEST_UNAVAILABLE);
    }
    if (tcp) conns.tcpTransition(conn, Dir.INPUT, fl, now);
    else conns.udpTransition(conn, Dir.INPUT, now);
    b.services.stats.inPacket(conns.svc(conn), p.l3Len);
    b.dests.stats.inPacket(conns.dest(conn), p.l3Len);
    const sent = this.#eg.sent;
    const r = toServer(this.#ctx, conn, conns.fwd(conn));
    if (r === 0 && this.#observer !== null) this.#observe(conn, Dir.INPUT, sent);
    if (conns.flags(conn) & CF.ONE_PACKET) {
      conns.remove(conn);
      this.#epoch++;
      this.stats[Stat.ONE_PACKET_REMOVED]!++;
    }
    if (r !== 0) return this.#drop(r);
    this.stats[Stat.FORWARDED_IN]!++;
    this.verdicts[Verdict.FORWARD]!++;
    return Verdict.FORWARD;
  }

  #scheduleFailed(): number {
    const p = this.#ctx.p;
    const why = this.balancer.lastFailure;
    if (why === BalancerStat.TABLE_FULL) return this.#drop(Drop.TABLE_FULL);
    if (why === BalancerStat.NO_LOCAL_PORT) return this.#drop(Drop.NO_LOCAL_PORT);
    if (this.config.unreachableOnNoDest) {
      // IPVS ip_vs_leave: "no destination available" answers port unreachable, from the VIP.
      if (p.af === 4)
        this.#eg.icmpError(p, Icmpv4Type.DEST_UNREACHABLE, Icmpv4Code.PORT_UNREACHABLE, 0, p.daddr, 0);
      else this.#eg.icmpError(p, Icmpv6Type.DEST_UNREACHABLE, 4, 0, p.daddr, 0);
    }
    return this.#drop(Drop.NO_DEST);
  }

  #outbound(conn: number, now: number): number {
    const p = this.#ctx.p;
    if (p.l4Reason !== Reason.OK) return this.#drop(p.l4Reason);
    if (!this.#l4Ok(p)) return this.#badSum(p);
    const b = this.balancer;
    const conns = b.conns;
    if (p.proto === IpProto.TCP) conns.tcpTransition(conn, Dir.OUTPUT, p.tcpFlags, now);
    else conns.udpTransition(conn, Dir.OUTPUT, now);
    b.services.stats.outPacket(conns.svc(conn), p.l3Len);
    b.dests.stats.outPacket(conns.dest(conn), p.l3Len);
    const sent = this.#eg.sent;
    const r = toClient(this.#ctx, conn, conns.fwd(conn));
    if (r !== 0) return this.#drop(r);
    if (this.#observer !== null) this.#observe(conn, Dir.OUTPUT, sent);
    this.stats[Stat.FORWARDED_OUT]!++;
    this.verdicts[Verdict.FORWARD]!++;
    return Verdict.FORWARD;
  }

  #observe(conn: number, dir: number, sentBefore: number): void {
    const eg = this.#eg;
    if (eg.sent !== sentBefore + 1) return;
    this.#observer!.forwarded(conn, dir, this.#ctx.p, eg.buf, eg.frameOff, eg.lastLen, eg.frameIface);
  }

  /** Every counter by name (control plane; allocates). Zero counters are left out. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    const put = (prefix: string, names: readonly string[], v: Float64Array) => {
      for (let i = 0; i < v.length; i++) if (v[i] !== 0) out[`${prefix}${names[i]}`] = v[i]!;
    };
    put('drop_', DROP_NAMES, this.drops);
    put('pass_', PASS_NAMES, this.passes);
    put('verdict_', ['drop', 'forward', 'pass', 'reply'], this.verdicts);
    put('', STAT_NAMES, this.stats);
    return out;
  }
}
