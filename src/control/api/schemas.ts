/**
 * JSON Schemas of the admin API's bodies, served in the OpenAPI document under components.schemas and
 * checked against real responses by the tests. Inputs (ServiceInput, RealServerInput) are the config
 * file's blocks; their values are validated by the config schema itself (docs/config.md).
 */
import { HEALTH_KINDS } from '../../health/spec.js';
import { FORWARDING_METHODS, PROTOCOLS } from '../config/schema.js';
import { ACTION_OPS } from './batch.js';
import {
  any,
  arr,
  bool,
  dict,
  enumOf,
  int,
  type JsonSchema,
  nullable,
  num,
  obj,
  oneOf,
  ref,
  str,
} from './schema-dsl.js';

const duration = oneOf(str('e.g. 300s, 1m30s, 500ms'), num('seconds'));

const counters = obj(
  {
    conns: int('connections scheduled', 0),
    inpkts: int('packets in (proxy: reads from clients)', 0),
    outpkts: int('packets out (proxy: reads from real servers)', 0),
    inbytes: int(undefined, 0),
    outbytes: int(undefined, 0),
  },
  { description: 'Counters as IPVS keeps them (ipvsadm --stats)' },
);

const rates = obj(
  {
    cps: int('connections per second', 0),
    inpps: int(undefined, 0),
    outpps: int(undefined, 0),
    inbps: int('bytes per second', 0),
    outbps: int('bytes per second', 0),
  },
  { description: '2-second samples smoothed as ip_vs_est.c (ipvsadm --rate)' },
);

const healthInput = obj(
  {
    'kind?': enumOf(HEALTH_KINDS),
    'interval?': duration,
    'timeout?': duration,
    'rise?': int(undefined, 1),
    'fall?': int(undefined, 1),
    'port?': int(undefined, 1, 65535),
    'method?': str(),
    'path?': str(),
    'host?': str(),
    'expectStatus?': any('200, [200, 204] or "200-299"'),
    'bodyRegex?': str(),
    'tlsVerify?': bool(),
    'sni?': str(),
    'payload?': str(),
    'expectRegex?': str(),
    'command?': arr(str()),
    'query?': str('dns: the name queried'),
    'queryType?': str('dns: A, AAAA, NS, SOA, MX, TXT...'),
    'helo?': str('smtp: the HELO name'),
  },
  { description: 'A health block (docs/config.md, `health`)' },
);

const scheduler = oneOf(
  str('a scheduler name: rr wrr lc wlc sed nq sh dh mh lblc lblcr fo ovf twos'),
  obj({
    name: str(),
    'flags?': arr(enumOf(['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'])),
    'mhTableSize?': int(),
    'shTableBits?': int(),
  }),
);

const realServerInput = obj(
  {
    address: str('ip:port, [v6]:port, or an address (then the service port)'),
    'weight?': int(undefined, 0, 65535),
    'maxConnections?': int('ipvsadm -x', 0),
    'lowerThreshold?': int('ipvsadm -y', 0),
    'forwarding?': enumOf(FORWARDING_METHODS),
    'inhibitOnFailure?': bool(),
    'health?': healthInput,
  },
  { description: 'A realServers[] entry of the config file' },
);

const serviceInput = obj(
  {
    name: str('1-63 of A-Z a-z 0-9 _ . -'),
    'protocol?': enumOf(PROTOCOLS),
    address: str('VIP:port'),
    'scheduler?': scheduler,
    'persistence?': obj({ 'timeout?': duration, 'netmask?': oneOf(str(), int()) }),
    'proxyProtocol?': enumOf(['off', 'v1', 'v2']),
    'health?': healthInput,
    'sorryServer?': str(),
    'quorum?': int(undefined, 1),
    'hysteresis?': int(undefined, 0),
    'inhibitOnFailure?': bool(),
    'expireOnFailure?': bool(),
    'connectTimeout?': duration,
    'idleTimeout?': duration,
    'tcpNoDelay?': bool(),
    'forwarding?': enumOf(FORWARDING_METHODS),
    'onePacket?': bool(),
    'realServers?': arr(realServerInput),
  },
  { description: 'A services[] entry of the config file' },
);

const healthView = obj({
  healthy: bool('what the director acts on'),
  kind: enumOf(HEALTH_KINDS),
  state: enumOf(['up', 'down', 'unknown']),
  checks: int(undefined, 0),
  consecutiveOk: int(undefined, 0),
  consecutiveFail: int(undefined, 0),
  since: nullable(str('ISO 8601: when the state last changed')),
  lastCheck: nullable(
    obj({ ok: bool(), reason: str('e.g. connect ECONNREFUSED'), durationMs: num(), 'detail?': str() }),
  ),
});

const realServer = obj({
  address: str(),
  config: ref('RealServerInput'),
  weight: int('effective weight (0 while an inhibited server is down)', 0),
  configuredWeight: int('the weight in the config', 0),
  maxConnections: int('upper threshold, 0 = none', 0),
  lowerThreshold: int('lower threshold, 0 = default', 0),
  forwarding: enumOf(FORWARDING_METHODS),
  activeConns: int(undefined, 0),
  inactConns: int(undefined, 0),
  persistConns: int(undefined, 0),
  listed: bool('in the scheduling list'),
  overloaded: bool('at or above its upper threshold'),
  stats: ref('Counters'),
  rates: ref('Rates'),
  health: ref('Health'),
});

const service = obj({
  name: str(),
  key: str('tcp/10.0.0.1:80'),
  protocol: enumOf(PROTOCOLS),
  address: str(),
  config: obj({}, { open: true, description: 'the service block without realServers' }),
  scheduler: obj({ name: str(), flags: arr(str()) }),
  persistence: nullable(obj({ timeoutSeconds: num(), prefixLength: int(undefined, 0, 128) })),
  onePacket: bool(),
  up: bool('quorum state'),
  stats: ref('Counters'),
  rates: ref('Rates'),
  realServers: arr(ref('RealServer')),
});

const change = obj({
  kind: enumOf([
    'global-changed',
    'service-added',
    'service-removed',
    'service-changed',
    'realserver-added',
    'realserver-removed',
    'realserver-changed',
    'vrrp-added',
    'vrrp-removed',
    'vrrp-changed',
  ]),
  'service?': str(),
  'realServer?': str(),
  'instance?': str(),
  'section?': str(),
  'fields?': arr(str()),
  'before?': any('the old value (changed fields only for *-changed)'),
  'after?': any('the new value'),
});

const applyResult = obj({
  applied: bool('false for a dry run'),
  dryRun: bool(),
  changes: arr(ref('Change')),
  operations: int('engine operations applied', 0),
  needsRestart: arr(str()),
  warnings: arr(obj({ path: str(), message: str() })),
  'previousWeight?': int('drain: the weight before'),
});

const errorBody = obj({
  error: obj({
    code: str('stable: TSLVS_ERR_...'),
    message: str(),
    details: obj({}, { open: true }),
  }),
});

const connection = obj({
  protocol: enumOf(PROTOCOLS),
  state: str('TCP state (ESTABLISHED...), UDP, or NONE for a persistence template'),
  expiresMs: int(undefined, 0),
  client: str(),
  virtual: str(),
  realServer: str(),
  local: nullable(str('Full-NAT local address')),
  forwarding: str(),
  template: bool(),
  service: str(),
});

const timeouts = obj({ tcp: int(undefined, 0), tcpFin: int(undefined, 0), udp: int(undefined, 0) });

const batchAction = obj(
  {
    op: enumOf(ACTION_OPS),
    'service?': str('service name or key'),
    'realServer?': str('ip:port'),
    'body?': obj({}, { open: true, description: 'ServiceInput or RealServerInput' }),
    'changes?': obj({}, { open: true, description: 'merge patch' }),
    'tcp?': int(undefined, 0),
    'tcpFin?': int(undefined, 0),
    'udp?': int(undefined, 0),
  },
  { description: 'One change, as the matching route would make it' },
);

export const COMPONENTS: Record<string, JsonSchema> = {
  Error: errorBody,
  Counters: counters,
  Rates: rates,
  Health: healthView,
  ServiceInput: serviceInput,
  RealServerInput: realServerInput,
  Service: service,
  RealServer: realServer,
  Change: change,
  ApplyResult: applyResult,
  Connection: connection,
  Timeouts: timeouts,
  BatchAction: batchAction,
};

export const SCHEMAS = {
  servicePatch: obj(
    Object.fromEntries(
      Object.entries(serviceInput.properties!)
        .filter(([k]) => !['name', 'protocol', 'address', 'realServers'].includes(k))
        .map(([k, v]) => [`${k}?`, nullable(v)]),
    ),
    { description: 'JSON merge patch (RFC 7396): null resets a key to its default' },
  ),
  realServerPatch: obj(
    Object.fromEntries(
      Object.entries(realServerInput.properties!)
        .filter(([k]) => k !== 'address')
        .map(([k, v]) => [`${k}?`, nullable(v)]),
    ),
    { description: 'JSON merge patch (RFC 7396): null resets a key to its default' },
  ),
  status: obj({
    version: str(),
    pid: int(),
    uptimeSeconds: int(undefined, 0),
    configFile: nullable(str()),
    dataplane: enumOf(['proxy', 'packet']),
    services: int(undefined, 0),
    realServers: int(undefined, 0),
    connections: int(undefined, 0),
    conntable: obj({ count: int(undefined, 0), capacity: int(undefined, 1) }),
    director: dict(num()),
    dataplaneStats: obj({ counters: dict(num()), gauges: dict(num()) }),
  }),
  connectionPage: obj({
    total: int('matching entries', 0),
    offset: int(undefined, 0),
    limit: int(undefined, 1),
    items: arr(ref('Connection')),
  }),
  stats: obj({
    totals: obj({ stats: ref('Counters'), rates: ref('Rates') }),
    services: arr(
      obj({
        name: str(),
        key: str(),
        stats: ref('Counters'),
        rates: ref('Rates'),
        realServers: arr(obj({ address: str(), stats: ref('Counters'), rates: ref('Rates') })),
      }),
    ),
    conntable: obj({
      count: int(undefined, 0),
      capacity: int(undefined, 1),
      inDefence: bool(),
      events: dict(num()),
    }),
    scheduling: dict(num()),
    dataplane: obj({ counters: dict(num()), gauges: dict(num()) }),
  }),
  health: obj({
    services: arr(
      obj({
        name: str(),
        key: str(),
        up: bool(),
        healthy: int(undefined, 0),
        total: int(undefined, 0),
        quorum: int(undefined, 1),
      }),
    ),
    realServers: arr(obj({ service: str(), key: str(), realServer: str(), health: ref('Health') })),
  }),
  batch: obj({ actions: arr(ref('BatchAction')) }),
  zero: obj({ zeroed: str('a service key, or all') }),
  configView: obj({ config: obj({}, { open: true }) }),
  configBody: obj({}, { open: true, description: 'a whole config file, YAML or JSON' }),
} as const;
