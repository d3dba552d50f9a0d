/**
 * The one schema of a tslvs config file (zod 4). It checks the shape of every key and converts field
 * values (durations to ms, addresses to Endpoint/IpAddress, argv lists); objects are strict so a typo
 * in a key is an error naming the key. Defaults and checks that relate several fields live in
 * normalize.ts, which turns this schema's output into the `Config` the daemon runs.
 */
import { z } from 'zod';
import { SCHEDULER_FLAGS, SCHEDULER_NAMES } from '../../engine/schedulers/names.js';
import { HEALTH_KINDS } from '../../health/spec.js';
import {
  argv,
  duration,
  endpoint,
  endpointPortOptional,
  ifname,
  int,
  ip,
  ipPrefix,
  label,
  netmask,
  regex,
  statusCodes,
} from './fields.js';

export const FORWARDING_METHODS = ['dr', 'nat', 'tun', 'fnat'] as const;
export const PROXY_PROTOCOL_VERSIONS = ['off', 'v1', 'v2'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const PROTOCOLS = ['tcp', 'udp'] as const;
export const DATAPLANE_KINDS = ['proxy', 'packet'] as const;

/** The largest Maglev table tslvs accepts (a prime below 2^20; IPVS's largest is 131071). */
export const MAX_MH_TABLE_SIZE = 1_048_573;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** An ASCII domain name a DNS check can ask for: labels of 1-63 bytes, 253 in all (a final dot aside). */
export function isDnsName(s: string): boolean {
  if (s === '.') return true;
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.length <= 253 && /^([A-Za-z0-9_*-]{1,63}\.)*[A-Za-z0-9_*-]{1,63}$/.test(name);
}

/** Every field optional: a real server's health block is merged over its service's before defaults. */
export const healthSchema = z.strictObject({
  kind: z.enum(HEALTH_KINDS).optional(),
  interval: duration({ minMs: 10 }).optional(),
  timeout: duration({ minMs: 1 }).optional(),
  rise: int(1, 1000).optional(),
  fall: int(1, 1000).optional(),
  port: int(1, 65535).optional(),
  method: z
    .string()
    .regex(/^[A-Z]{1,20}$/, { error: 'must be an HTTP method in capitals, e.g. GET or HEAD' })
    .optional(),
  path: z.string().startsWith('/', { error: "must start with '/'" }).optional(),
  host: z.string().min(1).optional(),
  expectStatus: statusCodes().optional(),
  bodyRegex: regex().optional(),
  tlsVerify: z.boolean().optional(),
  sni: z.string().min(1).optional(),
  payload: z.string().optional(),
  expectRegex: regex().optional(),
  command: argv().optional(),
  query: z
    .string()
    .refine(isDnsName, { error: "must be a domain name such as 'example.com' or '.' (the root)" })
    .optional(),
  queryType: z
    .enum(['A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SRV', 'RRSIG', 'DNSKEY'])
    .optional(),
  helo: z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be one word of printable characters (sent after HELO)' })
    .optional(),
});

export const schedulerSchema = z
  .union([
    z.enum(SCHEDULER_NAMES),
    z.strictObject({
      name: z.enum(SCHEDULER_NAMES),
      flags: z.array(z.enum(SCHEDULER_FLAGS)).optional(),
      mhTableSize: int(2, MAX_MH_TABLE_SIZE)
        .refine(isPrime, { error: (iss) => `must be a prime number (got ${String(iss.input)})` })
        .optional(),
      shTableBits: int(1, 20).optional(),
    }),
  ])
  .describe('a scheduler name or a mapping { name, flags, mhTableSize, shTableBits }');

const persistenceSchema = z.strictObject({
  timeout: duration({ minMs: 1000 }).optional(),
  netmask: netmask().optional(),
});

const realServerSchema = z.strictObject({
  address: endpointPortOptional(),
  weight: int(0, 65535).optional(),
  maxConnections: int(0, 2 ** 31 - 1).optional(),
  lowerThreshold: int(0, 2 ** 31 - 1).optional(),
  forwarding: z.enum(FORWARDING_METHODS).optional(),
  inhibitOnFailure: z.boolean().optional(),
  health: healthSchema.optional(),
});

export const serviceSchema = z.strictObject({
  name: label(),
  protocol: z.enum(PROTOCOLS).optional(),
  address: endpoint(),
  scheduler: schedulerSchema.optional(),
  persistence: persistenceSchema.optional(),
  // `proxyProtocol: false` is what a YAML 1.1 habit (`off` unquoted) would have meant.
  proxyProtocol: z.preprocess((v) => (v === false ? 'off' : v), z.enum(PROXY_PROTOCOL_VERSIONS)).optional(),
  health: healthSchema.optional(),
  sorryServer: endpointPortOptional().optional(),
  quorum: int(1, 65535).optional(),
  hysteresis: int(0, 65535).optional(),
  inhibitOnFailure: z.boolean().optional(),
  expireOnFailure: z.boolean().optional(),
  connectTimeout: duration({ minMs: 1 }).optional(),
  idleTimeout: duration({ minMs: 1000 }).optional(),
  tcpNoDelay: z.boolean().optional(),
  forwarding: z.enum(FORWARDING_METHODS).optional(),
  onePacket: z.boolean().optional(),
  realServers: z.array(realServerSchema),
});

const virtualAddressSchema = z
  .union([ipPrefix(), z.strictObject({ address: ipPrefix(), interface: ifname().optional() })])
  .describe("an address ('10.0.0.1' or '10.0.0.1/24') or a mapping { address, interface }");

export const vrrpSchema = z.strictObject({
  name: label(),
  interface: ifname(),
  virtualRouterId: int(1, 255),
  priority: int(1, 255).optional(),
  // VRRPv3 counts centiseconds in 12 bits (max 40.95 s); v2 counts whole seconds (max 255 s).
  advertInterval: duration({ minMs: 10, maxMs: 255_000, stepMs: 10 }).optional(),
  version: z.literal([2, 3]).optional(),
  preempt: z.boolean().optional(),
  preemptDelay: duration({ maxMs: 1_000_000 }).optional(),
  unicastSource: ip().optional(),
  unicastPeers: z.array(ip()).optional(),
  virtualAddresses: z.array(virtualAddressSchema).min(1),
  trackHealth: z.array(z.strictObject({ service: label(), weight: int(-254, 254).optional() })).optional(),
  authPass: z.string().min(1).max(8).optional(),
  garp: z
    .strictObject({
      repeat: int(1, 255).optional(),
      refresh: duration().optional(),
      delay: duration().optional(),
    })
    .optional(),
  notify: z
    .strictObject({
      master: argv().optional(),
      backup: argv().optional(),
      fault: argv().optional(),
      stop: argv().optional(),
      any: argv().optional(),
    })
    .optional(),
});

const syncSchema = z.strictObject({
  listen: endpoint(),
  peers: z.array(endpoint()).min(1),
  key: z.string().min(16).optional(),
  keyFile: z.string().min(1).optional(),
  instance: z.string().min(1).optional(),
  refreshInterval: duration({ minMs: 1000, maxMs: 3_600_000 }).optional(),
  snapshotWait: duration({ maxMs: 600_000 }).optional(),
});

export const configSchema = z.strictObject({
  admin: z
    .strictObject({
      listen: endpoint().optional(),
      token: z.string().min(1).optional(),
      tokenFile: z.string().min(1).optional(),
    })
    .optional(),
  dataplane: z
    .strictObject({
      kind: z.enum(DATAPLANE_KINDS).optional(),
      interface: ifname().optional(),
      localAddresses: z.array(ip()).optional(),
      vipInterface: ifname().optional(),
      mtu: int(68, 65535).optional(),
      answerPing: z.boolean().optional(),
      pingRatePerSec: int(0, 1_000_000).optional(),
      xdp: z.enum(['off', 'auto', 'native', 'generic']).optional(),
    })
    .optional(),
  timeouts: z
    .strictObject({
      tcp: duration({ minMs: 1000 }).optional(),
      tcpFin: duration({ minMs: 1000 }).optional(),
      udp: duration({ minMs: 1000 }).optional(),
    })
    .optional(),
  conntable: z.strictObject({ size: int(1, 2 ** 28).optional() }).optional(),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).optional() }).optional(),
  services: z.array(serviceSchema).optional(),
  ha: z
    .strictObject({
      vrrp: z.array(vrrpSchema).optional(),
      sync: syncSchema.optional(),
    })
    .optional(),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawService = z.output<typeof serviceSchema>;
export type RawHealth = z.output<typeof healthSchema>;
export type RawVrrp = z.output<typeof vrrpSchema>;
