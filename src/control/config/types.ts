/**
 * The normalized configuration: what `loadConfig` returns and the daemon runs. Every default is applied,
 * durations are milliseconds, addresses are parsed, health specs are complete and already merged per
 * real server. Absent optional features are `null` (not missing keys) so two configs compare field by
 * field and print the same way.
 */
import type { Endpoint, IpAddress } from '../../engine/addr.js';
import type { SchedulerName, SchedulerOptions } from '../../engine/schedulers/names.js';
import type { HealthCheckSpec } from '../../health/spec.js';
import type {
  DATAPLANE_KINDS,
  FORWARDING_METHODS,
  LOG_LEVELS,
  PROTOCOLS,
  PROXY_PROTOCOL_VERSIONS,
} from './schema.js';

export type Protocol = (typeof PROTOCOLS)[number];
export type ForwardingMethod = (typeof FORWARDING_METHODS)[number];
export type ProxyProtocolVersion = (typeof PROXY_PROTOCOL_VERSIONS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type DataplaneKind = (typeof DATAPLANE_KINDS)[number];

export interface Config {
  admin: AdminConfig;
  dataplane: DataplaneConfig;
  /** ipvsadm --set: idle timeouts of established TCP, closing TCP (FIN_WAIT) and UDP entries. */
  timeouts: { tcpMs: number; tcpFinMs: number; udpMs: number };
  /** Hard limit on tracked connections (packet mode sessions, proxy mode open connections). */
  conntable: { size: number };
  log: { level: LogLevel };
  services: ServiceConfig[];
  ha: HaConfig;
}

export interface AdminConfig {
  listen: Endpoint;
  /** From `token`, else the contents of `tokenFile`, else $TSLVS_TOKEN; null = read-only API. */
  token: string | null;
}

export type DataplaneConfig = ProxyDataplaneConfig | PacketDataplaneConfig;

export interface ProxyDataplaneConfig {
  kind: 'proxy';
}

export interface PacketDataplaneConfig {
  kind: 'packet';
  /** Where frames are read and written (AF_PACKET). */
  interface: string;
  /** Full-NAT source addresses (the director's local IPs towards the real servers). */
  localAddresses: IpAddress[];
  /** Where VRRP/the daemon adds the virtual addresses; null = `interface`. */
  vipInterface: string | null;
  /** null = read the interface's MTU at start. */
  mtu: number | null;
  /** Answer ICMP/ICMPv6 echo for the VIPs and local addresses tslvs holds (the kernel does not own them). */
  answerPing: boolean;
  /** Echo replies per second at most (burst: one second's worth); 0 = no limit, as the kernel. */
  pingRatePerSec: number;
  /**
   * The XDP fast path for established sessions: off, in the driver (native), generic (any device), or
   * auto (the default: generic, and without the fast path, warned, where the kernel refuses it).
   */
  xdp: 'off' | 'auto' | 'native' | 'generic';
}

export interface SchedulerConfig {
  name: SchedulerName;
  options: SchedulerOptions;
}

export interface PersistenceConfig {
  timeoutMs: number;
  /** Client addresses are grouped by this many leading bits (ipvsadm -M). */
  prefixLength: number;
}

export interface ServiceConfig {
  /** A label for logs, metrics and `trackHealth`; the identity is protocol + address. */
  name: string;
  protocol: Protocol;
  /** The VIP and port (proxy mode: the listen address). */
  address: Endpoint;
  scheduler: SchedulerConfig;
  persistence: PersistenceConfig | null;
  /** PROXY protocol header sent to each real server (proxy mode). */
  proxyProtocol: ProxyProtocolVersion;
  /** The service-level check (what real servers without an override get). */
  health: HealthCheckSpec;
  sorryServer: Endpoint | null;
  /** Fewer healthy real servers than this = service down (sorry server, else refuse). */
  quorum: number;
  /** Down below quorum - hysteresis, up again at quorum + hysteresis (keepalived). */
  hysteresis: number;
  /** A failed real server is set to weight 0 (quiesced) instead of being removed. */
  inhibitOnFailure: boolean;
  /** Close existing connections to a failed real server (IPVS expire_nodest_conn). */
  expireOnFailure: boolean;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Proxy mode, TCP: TCP_NODELAY on both sockets of a connection (Nagle off), as HAProxy and nginx do. */
  tcpNoDelay: boolean;
  /** Default forwarding method of the service's real servers (packet mode). */
  forwarding: ForwardingMethod;
  /** Schedule every UDP datagram on its own (ipvsadm -o). */
  onePacket: boolean;
  realServers: RealServerConfig[];
}

export interface RealServerConfig {
  address: Endpoint;
  /** 0..65535; 0 = quiesced (no new connections). */
  weight: number;
  /** ipvsadm -x (upper threshold); 0 = no limit. */
  maxConnections: number;
  /** ipvsadm -y (lower threshold); 0 = default hysteresis (3/4 of maxConnections). */
  lowerThreshold: number;
  /** The service's method unless overridden for this server. */
  forwarding: ForwardingMethod;
  /** The service's setting unless overridden for this server (keepalived allows both levels). */
  inhibitOnFailure: boolean;
  /** The service's check with this server's overrides merged over it. */
  health: HealthCheckSpec;
}

export interface HaConfig {
  vrrp: VrrpInstanceConfig[];
  sync: SyncConfig | null;
}

export interface VirtualAddress {
  addr: IpAddress;
  prefixLength: number;
  interface: string;
}

export interface VrrpInstanceConfig {
  name: string;
  interface: string;
  virtualRouterId: number;
  /** 255 = address owner. */
  priority: number;
  advertIntervalMs: number;
  version: 2 | 3;
  preempt: boolean;
  preemptDelayMs: number;
  /** Source address for unicast advertisements; null = the interface's primary address. */
  unicastSource: IpAddress | null;
  /** Empty = multicast (224.0.0.18 / ff02::12). */
  unicastPeers: IpAddress[];
  virtualAddresses: VirtualAddress[];
  /** keepalived track weights: < 0 applies while the service is down, > 0 while it is up; 0 = FAULT while down. */
  trackHealth: { service: string; weight: number }[];
  /** VRRPv2 simple text authentication (RFC 2338 type 1); null = none. */
  authPass: string | null;
  garp: { repeat: number; refreshMs: number; delayMs: number };
  /** keepalived notify_master/_backup/_fault/_stop (argv as given) and generic `notify` (`any`: + INSTANCE name STATE prio). */
  notify: {
    master: string[] | null;
    backup: string[] | null;
    fault: string[] | null;
    stop: string[] | null;
    any: string[] | null;
  };
}

export interface SyncConfig {
  listen: Endpoint;
  peers: Endpoint[];
  /** HMAC key authenticating sync messages. */
  key: string;
  /**
   * The VRRP instance whose MASTER state makes this director the sync master; null = any instance (and
   * the first one for where the Full-NAT local addresses go).
   */
  instance: string | null;
  /** Every live session is re-sent this often (master), and copies live this much past their expiry. */
  refreshIntervalMs: number;
  /** How long a starting director waits for a peer's snapshot before it starts VRRP. */
  snapshotWaitMs: number;
}
