/**
 * Pipeline configuration: the director's interfaces (MAC, MTU, VLAN, own addresses), routes, neighbour
 * timing, the checksum policy and the knobs IPVS has as sysctls. `resolveConfig` validates everything once
 * (TslvsError TSLVS_ERR_CONFIG naming the field) and flattens it for the hot path.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { formatIp, type IpAddress } from '../addr.js';
import type { NeighbourOptions } from '../neighbours.js';
import { type RouteSpec, RouteTable } from './routes.js';
import { macHiOf, macLoOf } from './words.js';

export interface InterfaceSpec {
  /** Name for messages only. */
  name?: string;
  /** 48-bit integer or 'aa:bb:cc:dd:ee:ff'. */
  mac: number | string;
  /** IP MTU. Default 1500. */
  mtu?: number;
  /**
   * 802.1Q VLAN id when the ring is bound to the parent of a VLAN: received frames must carry it (stripped
   * into the ring header or in band) and sent frames get the tag in band. Absent or 0: untagged.
   */
  vlan?: number;
  /** The director's own addresses here; each also gives a connected route. */
  addresses?: ReadonlyArray<{ address: IpAddress; prefixLen: number }>;
}

export interface ChecksumPolicy {
  /** Verify the IPv4 header checksum of every frame. Default true. */
  verifyIpv4Header: boolean;
  /**
   * L4 (TCP/UDP/ICMP) checksums: 'auto' verifies unless the frame is CHECKSUM_PARTIAL (its checksum is not
   * finished) or the kernel marked it verified (CSUM_VALID / DATA_VALID); 'always' verifies all but partial
   * frames; 'never' trusts every frame (incremental updates keep a bad checksum bad). Default 'auto'.
   */
  verifyL4: 'auto' | 'always' | 'never';
  /**
   * Sinks take a virtio_net_hdr (PACKET_VNET_HDR): partial-checksum and GSO frames leave as they came and
   * the kernel finishes them. False: the pipeline finishes partial checksums itself and drops GSO frames.
   * Default true.
   */
  vnet: boolean;
}

export interface PipelineOptions {
  interfaces: readonly InterfaceSpec[];
  /** Extra routes (a default gateway is `{ prefix: 0.0.0.0, prefixLen: 0, via, iface }`). */
  routes?: readonly RouteSpec[];
  neighbours?: NeighbourOptions;
  staticNeighbours?: ReadonlyArray<{ address: IpAddress; mac: number | string }>;
  checksums?: Partial<ChecksumPolicy>;
  /**
   * Decrement TTL / hop limit of forwarded packets and drop them at 1 (current IPVS `decrement_ttl`, in
   * every mode). Default true; false leaves DR/TUN/NAT frames' TTL untouched.
   */
  decrementTtl?: boolean;
  /** Send ICMP time exceeded for packets dropped at TTL 1. Default true. */
  sendTimeExceeded?: boolean;
  /** Answer a new connection no real server can take with ICMP port unreachable (IPVS ip_vs_leave). Default true. */
  unreachableOnNoDest?: boolean;
  /** ICMP errors the pipeline originates: tokens per second and bucket size. Defaults 1000 and 100. */
  icmpRatePerSec?: number;
  icmpBurst?: number;
  /** Outer TTL of TUN packets; 0 (default) copies the inner TTL after the decrement, as IPVS does. */
  tunnelTtl?: number;
  /** IPVS expire_nodest_conn: a packet for a deleted real server also removes its session. Default false. */
  expireNodestConn?: boolean;
  /** IPVS conn_reuse_mode 1: a SYN hitting a TIME_WAIT/CLOSE session reschedules it. Default true. */
  connReuse?: boolean;
  /** Answer ARP / neighbour solicitations for VIPs (a VRRP backup turns this off). Default true. */
  answerVips?: boolean;
  /** Answer ICMP/ICMPv6 echo for the addresses held in user space (echo.ts). Default true. */
  answerPing?: boolean;
  /** Echo replies per second at most (bucket: one second's worth); 0 (default) = no limit. */
  pingRatePerSec?: number;
}

/** Per-service Full-NAT options (keyed by service id). */
export interface ServicePipelineOptions {
  /** Inject a PROXY protocol header into the client -> RS stream: 0 = off, 1 = v1 (TCP only), 2 = v2. */
  proxyProtocol?: 0 | 1 | 2;
  /** Carry the client address in a TOA TCP option. Default: on unless a PROXY header is injected. */
  toa?: boolean;
  /** TOA option kind. Default 254. */
  toaKind?: number;
}

/** The validated, flattened configuration. */
export interface ResolvedConfig {
  readonly ifCount: number;
  readonly ifMac: Float64Array;
  /** The MAC as high 16 bits and low 32 bits (int32), for the packet path. */
  readonly ifMacHi: Int32Array;
  readonly ifMacLo: Int32Array;
  readonly ifMtu: Uint32Array;
  readonly ifVlan: Uint16Array;
  /** First IPv4 address per interface (u32), valid where ifHasV4 is 1. */
  readonly ifV4: Uint32Array;
  readonly ifHasV4: Uint8Array;
  /** First IPv6 address per interface, four words each, valid where ifHasV6 is 1. */
  readonly ifV6: Uint32Array;
  readonly ifHasV6: Uint8Array;
  /** Every own address: family and words, for "is it ours". */
  readonly ownAf: Uint8Array;
  readonly ownAddr: Uint32Array;
  readonly routes: RouteTable;
  readonly checksums: ChecksumPolicy;
  readonly decrementTtl: boolean;
  readonly sendTimeExceeded: boolean;
  readonly unreachableOnNoDest: boolean;
  readonly icmpRatePerSec: number;
  readonly icmpBurst: number;
  readonly tunnelTtl: number;
  readonly expireNodestConn: boolean;
  readonly connReuse: boolean;
  readonly answerVips: boolean;
  readonly answerPing: boolean;
  readonly pingRatePerSec: number;
  readonly staticNeighbours: ReadonlyArray<{ address: IpAddress; mac: number }>;
}

function bad(msg: string, details: Record<string, unknown> = {}): TslvsError {
  return new TslvsError(ErrorCodes.CONFIG, `pipeline: ${msg}`, details);
}

/** 48-bit MAC from a number or text; throws naming `where`. */
export function macValue(v: number | string, where: string): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff_ffff) return v;
  } else {
    const m =
      /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
        v,
      );
    if (m) {
      let x = 0;
      for (let i = 1; i <= 6; i++) x = x * 256 + Number.parseInt(m[i]!, 16);
      return x;
    }
  }
  throw bad(`${where}: '${String(v)}' is not a MAC address`);
}

function intIn(v: number | undefined, def: number, lo: number, hi: number, where: string): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < lo || x > hi)
    throw bad(`${where} must be an integer ${lo}-${hi} (got ${x})`);
  return x;
}

export function resolveConfig(o: PipelineOptions): ResolvedConfig {
  const ifs = o.interfaces;
  if (!Array.isArray(ifs) || ifs.length === 0 || ifs.length > 64)
    throw bad('interfaces: give 1-64 interfaces');
  const n = ifs.length;
  const ifMac = new Float64Array(n);
  const ifMacHi = new Int32Array(n);
  const ifMacLo = new Int32Array(n);
  const ifMtu = new Uint32Array(n);
  const ifVlan = new Uint16Array(n);
  const ifV4 = new Uint32Array(n);
  const ifHasV4 = new Uint8Array(n);
  const ifV6 = new Uint32Array(n * 4);
  const ifHasV6 = new Uint8Array(n);
  const own: IpAddress[] = [];
  const connected: RouteSpec[] = [];
  ifs.forEach((spec, i) => {
    const where = `interfaces[${i}]${spec.name ? ` (${spec.name})` : ''}`;
    ifMac[i] = macValue(spec.mac, `${where}.mac`);
    ifMacHi[i] = macHiOf(ifMac[i]!);
    ifMacLo[i] = macLoOf(ifMac[i]!);
    ifMtu[i] = intIn(spec.mtu, 1500, 68, 65535, `${where}.mtu`);
    ifVlan[i] = intIn(spec.vlan, 0, 0, 4094, `${where}.vlan`);
    for (const a of spec.addresses ?? []) {
      const bits = a.address.family === 4 ? 32 : 128;
      if (!Number.isInteger(a.prefixLen) || a.prefixLen < 1 || a.prefixLen > bits) {
        throw bad(`${where}: ${formatIp(a.address)}/${a.prefixLen}: prefix length must be 1-${bits}`);
      }
      own.push(a.address);
      connected.push({ prefix: a.address, prefixLen: a.prefixLen, via: null, iface: i, src: a.address });
      if (a.address.family === 4 && !ifHasV4[i]) {
        ifV4[i] = a.address.words[0];
        ifHasV4[i] = 1;
      } else if (a.address.family === 6 && !ifHasV6[i]) {
        for (let w = 0; w < 4; w++) ifV6[i * 4 + w] = a.address.words[w]!;
        ifHasV6[i] = 1;
      }
    }
  });
  const ownAf = new Uint8Array(own.length);
  const ownAddr = new Uint32Array(own.length * 4);
  own.forEach((a, k) => {
    ownAf[k] = a.family;
    for (let w = 0; w < 4; w++) ownAddr[k * 4 + w] = a.words[w]!;
  });
  const cs = o.checksums ?? {};
  const verifyL4 = cs.verifyL4 ?? 'auto';
  if (verifyL4 !== 'auto' && verifyL4 !== 'always' && verifyL4 !== 'never') {
    throw bad(`checksums.verifyL4 must be auto, always or never (got '${String(verifyL4)}')`);
  }
  const staticNeighbours = (o.staticNeighbours ?? []).map((s, i) => ({
    address: s.address,
    mac: macValue(s.mac, `staticNeighbours[${i}].mac`),
  }));
  return {
    ifCount: n,
    ifMac,
    ifMacHi,
    ifMacLo,
    ifMtu,
    ifVlan,
    ifV4,
    ifHasV4,
    ifV6,
    ifHasV6,
    ownAf,
    ownAddr,
    routes: new RouteTable([...connected, ...(o.routes ?? [])], n),
    checksums: {
      verifyIpv4Header: cs.verifyIpv4Header ?? true,
      verifyL4,
      vnet: cs.vnet ?? true,
    },
    decrementTtl: o.decrementTtl ?? true,
    sendTimeExceeded: o.sendTimeExceeded ?? true,
    unreachableOnNoDest: o.unreachableOnNoDest ?? true,
    icmpRatePerSec: intIn(o.icmpRatePerSec, 1000, 0, 1_000_000, 'icmpRatePerSec'),
    icmpBurst: intIn(o.icmpBurst, 100, 1, 1_000_000, 'icmpBurst'),
    tunnelTtl: intIn(o.tunnelTtl, 0, 0, 255, 'tunnelTtl'),
    expireNodestConn: o.expireNodestConn ?? false,
    connReuse: o.connReuse ?? true,
    answerVips: o.answerVips ?? true,
    answerPing: o.answerPing ?? true,
    pingRatePerSec: intIn(o.pingRatePerSec, 0, 0, 1_000_000, 'pingRatePerSec'),
    staticNeighbours,
  };
}

/** Per-service options in typed arrays by service id, grown on demand (control-plane writes only). */
export class ServiceOptionsTable {
  proxy = new Uint8Array(16);
  /** 1 = TOA on, 0 = off; 255 = not set (default: on unless proxy). */
  toa = new Uint8Array(16).fill(255);
  toaKind = new Uint8Array(16).fill(254);

  set(svcId: number, o: ServicePipelineOptions): void {
    if (!Number.isInteger(svcId) || svcId < 0 || svcId > 0xffff)
      throw bad(`service id ${svcId} out of range`);
    const pp = o.proxyProtocol ?? 0;
    if (pp !== 0 && pp !== 1 && pp !== 2) throw bad(`service ${svcId}: proxyProtocol must be 0, 1 or 2`);
    const kind = intIn(o.toaKind, 254, 2, 255, `service ${svcId}: toaKind`);
    if (svcId >= this.proxy.length) this.#grow(svcId + 1);
    this.proxy[svcId] = pp;
    this.toa[svcId] = o.toa === undefined ? 255 : o.toa ? 1 : 0;
    this.toaKind[svcId] = kind;
  }

  clear(svcId: number): void {
    if (svcId >= this.proxy.length) return;
    this.proxy[svcId] = 0;
    this.toa[svcId] = 255;
    this.toaKind[svcId] = 254;
  }

  proxyVersion(svcId: number): number {
    return svcId < this.proxy.length ? this.proxy[svcId]! : 0;
  }

  toaOn(svcId: number): boolean {
    if (svcId >= this.toa.length) return true;
    const t = this.toa[svcId]!;
    return t === 255 ? this.proxy[svcId] === 0 : t === 1;
  }

  kind(svcId: number): number {
    return svcId < this.toaKind.length ? this.toaKind[svcId]! : 254;
  }

  #grow(n: number): void {
    const cap = Math.max(n, this.proxy.length * 2);
    const g = (a: Uint8Array, fill: number) => {
      const b = new Uint8Array(cap).fill(fill);
      b.set(a);
      return b;
    };
    this.proxy = g(this.proxy, 0);
    this.toa = g(this.toa, 255);
    this.toaKind = g(this.toaKind, 254);
  }
}
