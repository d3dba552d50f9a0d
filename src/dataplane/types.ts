/**
 * What the control plane needs from a data plane, socket proxy or packet forwarder alike, and the part
 * of a service definition a data plane uses (the engine holds the rest).
 */
import type { Endpoint } from '../engine/addr.js';
import type { ProtoName } from '../engine/service.js';

export interface DataPlaneService {
  /** Engine service key, `tcp/10.0.0.1:80`. */
  key: string;
  name: string;
  protocol: ProtoName;
  address: Endpoint;
  /** PROXY protocol header sent to real servers (proxy mode). */
  proxyProtocol: 'off' | 'v1' | 'v2';
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** TCP: Nagle off on the client and real-server sockets (proxy mode). */
  tcpNoDelay: boolean;
}

export interface DataPlaneStats {
  /** Named counters (errors, retries, drops by reason...), each monotonically increasing. */
  counters: Record<string, number>;
  /** Gauges (open connections, sessions...). */
  gauges: Record<string, number>;
}

export interface DataPlane {
  readonly kind: 'proxy' | 'packet';
  /**
   * Serves exactly these services (listeners / VIPs), closing what is no longer listed. A service is
   * identified by its key; other fields may change in place.
   */
  syncServices(services: readonly DataPlaneService[]): Promise<void>;
  /** Stops accepting new work, lets open connections finish for up to `graceMs`, then closes everything. */
  stop(graceMs: number): Promise<void>;
  stats(): DataPlaneStats;
}
