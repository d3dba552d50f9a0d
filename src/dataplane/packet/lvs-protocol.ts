/**
 * The contract between the packet data plane's main thread and its worker: the handler's start options
 * (plain data, structured-cloned) and the control messages the main thread sends (engine operations,
 * snapshots, per-service Full-NAT options, VIP ownership for VRRP, session sync: its settings, its role and
 * its status; the sessions themselves never cross threads).
 */
import type { IpAddress } from '../../engine/addr.js';
import type { EngineOp } from '../../engine/ops.js';
import type { ConnFilter } from '../../engine/snapshot.js';
import type { SyncOptions, SyncStatus } from '../../ha/sync/types.js';

export interface LvsInterface {
  name: string;
  mac: string;
  mtu: number;
  addresses: Array<{ address: IpAddress; prefixLen: number }>;
}

export interface LvsRoute {
  prefix: IpAddress;
  prefixLen: number;
  via: IpAddress | null;
  src: IpAddress | null;
  /** Output interface (index into `interfaces`); default 0. */
  iface?: number;
}

export interface LvsHandlerOptions {
  /** Session table capacity. */
  capacity: number;
  interfaces: LvsInterface[];
  routes: LvsRoute[];
  localAddresses: IpAddress[];
  localPortRange?: [number, number];
  /** Answer ARP for VIPs from the start (false while a VRRP instance is not master). */
  answerVips: boolean;
  /** Echo replies for the held addresses (PipelineOptions.answerPing / pingRatePerSec). */
  answerPing?: boolean;
  pingRatePerSec?: number;
  /** Hash seed of the session table (random when absent); sync peers need not share it. */
  seed?: number;
  /**
   * The XDP fast path for established sessions (src/dataplane/xdp/), attached in this mode; `auto`: the
   * driver hook where the ports' drivers suit it, else (or when it is refused) the generic one
   * (xdp/auto-mode.ts).
   */
  xdp?: 'native' | 'generic' | 'auto';
  /** Run without the fast path when it cannot attach (LvsStats.xdp says why) rather than fail. */
  xdpOptional?: boolean;
  /** Neighbours known in advance (benchmarks: no ARP during a run). */
  staticNeighbours?: Array<{ address: IpAddress; mac: string }>;
  /** Engine operations applied before the first frame (benchmarks, tests). */
  ops?: EngineOp[];
  /** Per-service Full-NAT options applied before the first frame. */
  services?: LvsServiceOptions[];
}

export interface LvsServiceOptions {
  key: string;
  proxyProtocol: 0 | 1 | 2;
  toa: boolean;
}

export type LvsControl =
  | { type: 'ops'; ops: EngineOp[] }
  | { type: 'snapshot' }
  | { type: 'conns'; filter: ConnFilter; offset: number; limit: number }
  | { type: 'services'; services: LvsServiceOptions[] }
  /** `addresses`: the VRRP virtual addresses held now; `managed`: those of every instance. */
  | { type: 'answerVips'; on: boolean; addresses?: IpAddress[]; managed?: IpAddress[] }
  | { type: 'announce'; addresses: IpAddress[]; count: number }
  | { type: 'stats' }
  /** (Re)starts session sync (a running one is closed first); `requestSnapshot` asks the peers at once. */
  | { type: 'syncStart'; options: SyncOptions; master: boolean; requestSnapshot: boolean }
  | { type: 'syncRole'; master: boolean }
  | { type: 'syncStop' }
  | { type: 'syncStatus' };

/** The answer to `syncStart` and `syncStatus` (null: sync is off). */
export type LvsSyncStatus = SyncStatus | null;

export interface LvsStats {
  drops: Record<string, number>;
  passes: Record<string, number>;
  events: Record<string, number>;
  verdicts: Record<string, number>;
  /** Session sync counters (empty while sync is off). */
  sync: Record<string, number>;
  /**
   * The XDP fast path: `off`, the mode it runs in (`generic-after-gro`: generic on an interface with GRO on,
   * TCP other than DR left to the pipeline), or `unavailable: <why>` (xdpOptional).
   */
  xdp: string;
  /** Why hooks tried before the one running were refused (`auto`; empty otherwise). */
  xdpRefused: string[];
}
