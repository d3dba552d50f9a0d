/**
 * The normalized health-check specification: what the config layer produces (durations already in
 * milliseconds, defaults applied) and what the health monitor consumes. One shape for every layer.
 */
export const HEALTH_KINDS = ['tcp', 'http', 'https', 'udp', 'dns', 'smtp', 'exec', 'none'] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

interface CommonSpec {
  /** Time between checks; each wait is jittered by +-10% so checks of many RS do not align. */
  intervalMs: number;
  /** Per-check timeout; a check that takes longer fails with reason 'timeout'. */
  timeoutMs: number;
  /** Consecutive successes needed to go from down to up. */
  rise: number;
  /** Consecutive failures needed to go from up to down. */
  fall: number;
  /** Port to check instead of the RS port (keepalived connect_port). */
  port?: number;
}

export interface TcpSpec extends CommonSpec {
  kind: 'tcp';
}

export interface HttpSpec extends CommonSpec {
  kind: 'http' | 'https';
  method: string;
  path: string;
  /** Host header; defaults to the RS address. */
  host?: string;
  /** Accepted status codes. */
  expectStatus: number[];
  /** Regex source the body must match (first 64 KiB). */
  bodyRegex?: string;
  /** https only: verify the certificate chain (off by default, as keepalived's SSL_GET). */
  tlsVerify: boolean;
  /** https only: TLS server name; defaults to `host`. */
  sni?: string;
}

export interface UdpSpec extends CommonSpec {
  kind: 'udp';
  /** Datagram to send (UTF-8 text). */
  payload: string;
  /** Regex source a reply must match; absent = any reply is success. */
  expectRegex?: string;
}

export interface DnsSpec extends CommonSpec {
  kind: 'dns';
  /** The name queried (keepalived `name`; default '.', the root). */
  query: string;
  /** Record type: A, AAAA, NS, SOA, MX, TXT... (keepalived `type`; default SOA). */
  queryType: string;
}

export interface SmtpSpec extends CommonSpec {
  kind: 'smtp';
  /** Name sent with HELO (keepalived `helo_name`). */
  helo: string;
}

export interface ExecSpec extends CommonSpec {
  kind: 'exec';
  /**
   * argv, run without a shell (keepalived MISC_CHECK). The tokens `{address}`, `{port}` and `{family}` in
   * an element are replaced by the RS's values; exit status 0 = up.
   */
  command: string[];
}

export interface NoneSpec extends CommonSpec {
  kind: 'none';
}

export type HealthCheckSpec = TcpSpec | HttpSpec | UdpSpec | DnsSpec | SmtpSpec | ExecSpec | NoneSpec;

export const HEALTH_DEFAULTS = Object.freeze({
  intervalMs: 2000,
  timeoutMs: 1000,
  rise: 2,
  fall: 3,
});
