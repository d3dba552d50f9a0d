/**
 * virtual_server and real_server blocks -> tslvs services. Notes say where keepalived and tslvs
 * differ (quorum counts servers in tslvs, weights in keepalived; DR cannot change the port...).
 */
import { type Family, parseNetmask, tryParseIp } from '../../engine/addr.js';
import { isSchedulerName } from '../../engine/schedulers/names.js';
import {
  type CheckTiming,
  isTranslatableChecker,
  type RawHealth,
  takeTiming,
  translateChecker,
} from './checks.js';
import { type ConfNode, statementText } from './parser.js';
import { flagValue, type Reporter, Scope } from './scope.js';
import { readEndpoint, readNumber, readSeconds } from './values.js';

export interface TranslatedService {
  service: Record<string, unknown>;
  /** Where it came from, for a comment above the service in the output. */
  origin: ConfNode;
  forwarding: string;
  /** keepalived `laddr_group_name` (FNAT local addresses). */
  localAddressGroup?: string;
  /** Output comments keyed by a path relative to the service. */
  comments: { path: (string | number)[]; text: string }[];
}

const FORWARDING: Readonly<Record<string, string>> = { NAT: 'nat', DR: 'dr', TUN: 'tun', FNAT: 'fnat' };
const SCHEDULER_FLAG_KEYWORDS = ['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];

export function lastLine(node: ConfNode): number {
  return Math.max(node.line, node.endLine ?? 0, ...(node.children ?? []).map(lastLine));
}

export function skipBlock(node: ConfNode, report: Reporter, reason: string): void {
  const end = lastLine(node);
  const span = end > node.line ? ` (the whole block, to line ${end})` : '';
  report.skip(node, `${reason}${span}`);
}

function readForwarding(node: ConfNode | undefined, report: Reporter): string | undefined {
  if (!node) return undefined;
  const method = FORWARDING[(node.args[0] ?? '').toUpperCase()];
  if (!method) {
    report.untranslated(node, statementText(node), `unknown forwarding method '${node.args[0] ?? ''}'`);
    return undefined;
  }
  if (node.args.length > 1) {
    report.changed(
      node,
      statementText(node),
      `translated as ${method}; the tunnel options after it are not supported`,
    );
  }
  return method;
}

export function translateVirtualServer(node: ConfNode, report: Reporter): TranslatedService | null {
  const kind = node.args[0];
  if (kind === 'fwmark') {
    skipBlock(
      node,
      report,
      'firewall-mark services are not supported: write one service per address and port',
    );
    return null;
  }
  if (kind === 'group') {
    skipBlock(
      node,
      report,
      'virtual server groups are not supported: write one service per address and port',
    );
    return null;
  }
  const vip = readEndpoint(node);
  if ('error' in vip) {
    skipBlock(node, report, vip.error);
    return null;
  }
  const family = tryParseIp(node.args[0]!)!.family;
  const scope = Scope.of(node, report);
  const protoNode = scope.last('protocol');
  const protocol = (protoNode?.args[0] ?? 'TCP').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') {
    skipBlock(node, report, `protocol ${protoNode?.args[0]} is not supported (tcp and udp only)`);
    return null;
  }
  const comments: TranslatedService['comments'] = [];
  const service: Record<string, unknown> = {
    name: `${protocol}-${vip.text.replace(/[[\]]/g, '').replace(/:/g, '-')}`,
    protocol,
    address: vip.text,
  };
  translateScheduler(scope, service, report);
  const forwarding = readForwarding(scope.last('lb_kind', 'lvs_method'), report) ?? 'nat';
  service.forwarding = forwarding;
  translatePersistence(scope, service, family, report);
  const sorry = scope.last('sorry_server');
  if (sorry) {
    const ep = readEndpoint(sorry);
    if ('error' in ep) report.untranslated(sorry, statementText(sorry), ep.error);
    else if (familyOfEndpoint(ep.text) !== family) {
      report.untranslated(
        sorry,
        statementText(sorry),
        `the service is IPv${family}: packets cannot change family`,
      );
    } else service.sorryServer = ep.text;
  }
  const quorum = readNumber(scope.last('quorum'), report, { min: 1, max: 65535 });
  const hysteresis = readNumber(scope.last('hysteresis'), report, { min: 0, max: 65535 });
  const inhibit = scope.last('inhibit_on_failure');
  if (inhibit && flagValue(inhibit)) service.inhibitOnFailure = true;
  const ops = scope.last('ops');
  if (ops) {
    if (protocol === 'udp') service.onePacket = true;
    else report.untranslated(ops, 'ops', 'one-packet scheduling applies to udp services only');
  }
  const localGroup = scope.last('laddr_group_name')?.args[0];
  const timing = takeTiming(scope, {});
  const defaultHost = scope.last('virtualhost')?.args[0];

  const realServers: Record<string, unknown>[] = [];
  const healths: (RawHealth | null)[] = [];
  const seen = new Set<string>();
  for (const rsNode of scope.all('real_server')) {
    const rs = translateRealServer(rsNode, { vip, family, forwarding, timing, defaultHost }, report);
    if (!rs) continue;
    if (seen.has(rs.entry.address as string)) {
      skipBlock(rsNode, report, 'duplicate real server (keepalived drops the second one too)');
      continue;
    }
    seen.add(rs.entry.address as string);
    realServers.push(rs.entry);
    healths.push(rs.health);
  }
  placeHealth(service, realServers, healths, vip.port);
  if (quorum !== undefined) service.quorum = quorum;
  if (hysteresis !== undefined) service.hysteresis = hysteresis;
  if ((quorum !== undefined || hysteresis !== undefined) && realServers.some((r) => (r.weight ?? 1) !== 1)) {
    const n = scope.last('quorum') ?? scope.last('hysteresis')!;
    report.changed(
      n,
      statementText(n),
      'keepalived compares it with the sum of the live weights; tslvs counts live servers',
    );
    comments.push({ path: ['quorum'], text: 'keepalived: a sum of weights; tslvs: a number of servers' });
  }
  service.realServers = realServers;
  scope.finish();
  return {
    service,
    origin: node,
    forwarding,
    comments,
    ...(localGroup ? { localAddressGroup: localGroup } : {}),
  };
}

function translateScheduler(scope: Scope, service: Record<string, unknown>, report: Reporter): void {
  const algo = scope.last('lb_algo', 'lvs_sched');
  const flags = SCHEDULER_FLAG_KEYWORDS.filter((f) => scope.has(f));
  // keepalived 1.x spelled the flags as hashed_persist... in lvs_sched options; 2.x as separate keywords.
  const name = algo?.args[0]?.toLowerCase();
  if (algo && (!name || !isSchedulerName(name))) {
    report.untranslated(algo, statementText(algo), `unknown scheduler; tslvs uses its default (wlc)`);
  }
  const scheduler = name && isSchedulerName(name) ? name : undefined;
  const usable = flags.filter((f) => scheduler !== undefined && f.startsWith(`${scheduler}-`));
  for (const f of flags.filter((x) => !usable.includes(x))) {
    const at = scope.children.find((c) => c.name === f)!;
    report.untranslated(at, f, `only applies to the ${f.slice(0, 2)} scheduler`);
  }
  if (scheduler && usable.length > 0) service.scheduler = { name: scheduler, flags: usable };
  else if (scheduler) service.scheduler = scheduler;
}

function familyOfEndpoint(text: string): Family {
  return text.startsWith('[') ? 6 : 4;
}

function translatePersistence(
  scope: Scope,
  service: Record<string, unknown>,
  family: Family,
  report: Reporter,
): void {
  const timeoutNode = scope.last('persistence_timeout');
  const granularity = scope.last('persistence_granularity');
  const timeout = readSeconds(timeoutNode, report, 1);
  if (timeout === undefined) {
    if (granularity)
      report.untranslated(
        granularity,
        statementText(granularity),
        'has no effect without persistence_timeout',
      );
    return;
  }
  const persistence: Record<string, unknown> = { timeout };
  const mask = granularity?.args[0];
  if (granularity && mask !== undefined) {
    const value = /^\d+$/.test(mask) ? Number(mask) : mask;
    try {
      parseNetmask(value, family);
      persistence.netmask = value;
    } catch {
      report.untranslated(
        granularity,
        statementText(granularity),
        `not a valid IPv${family} netmask or prefix length`,
      );
    }
  }
  service.persistence = persistence;
}

interface RsContext {
  vip: { text: string; port: number };
  family: Family;
  forwarding: string;
  timing: CheckTiming;
  defaultHost: string | undefined;
}

function translateRealServer(
  node: ConfNode,
  ctx: RsContext,
  report: Reporter,
): { entry: Record<string, unknown>; health: RawHealth | null } | null {
  const ep = readEndpoint(node);
  if ('error' in ep) {
    skipBlock(node, report, ep.error);
    return null;
  }
  if (familyOfEndpoint(ep.text) !== ctx.family) {
    skipBlock(
      node,
      report,
      `the service is IPv${ctx.family}: the packet data plane does not mix address families`,
    );
    return null;
  }
  const scope = Scope.of(node, report);
  const entry: Record<string, unknown> = { address: ep.text };
  const forwarding = readForwarding(scope.last('lb_kind', 'lvs_method'), report);
  const effective = forwarding ?? ctx.forwarding;
  if ((effective === 'dr' || effective === 'tun') && ep.port !== ctx.vip.port) {
    const ip = node.args[0]!;
    entry.address = tryParseIp(ip)?.family === 6 ? `[${ip}]:${ctx.vip.port}` : `${ip}:${ctx.vip.port}`;
    report.changed(
      node,
      statementText(node),
      `${effective} cannot change the port: the real server gets port ${ctx.vip.port}, as IPVS does`,
    );
  }
  const weight = readNumber(scope.last('weight'), report, { min: 0, max: 65535 });
  if (weight !== undefined) entry.weight = weight;
  const upper = readNumber(scope.last('uthreshold'), report, { min: 0 });
  const lower = readNumber(scope.last('lthreshold'), report, { min: 0 });
  if (upper !== undefined && upper !== 0) entry.maxConnections = upper;
  if (lower !== undefined && lower !== 0) {
    if (upper && lower > upper) {
      const n = scope.last('lthreshold')!;
      report.untranslated(n, statementText(n), 'is above uthreshold (IPVS rejects it too)');
    } else entry.lowerThreshold = lower;
  }
  if (forwarding && forwarding !== ctx.forwarding) entry.forwarding = forwarding;
  const inhibit = scope.last('inhibit_on_failure');
  if (inhibit) entry.inhibitOnFailure = flagValue(inhibit) ?? true;
  const timing = takeTiming(scope, ctx.timing);
  const translatable = scope.children.filter((c) => isTranslatableChecker(c.name));
  let health: RawHealth | null = null;
  const first = translatable[0];
  if (first) {
    scope.all(first.name);
    health = translateChecker(first, timing, { ip: node.args[0]!, defaultHost: ctx.defaultHost }, report);
    for (const extra of translatable.slice(1)) {
      scope.take(extra);
      skipBlock(extra, report, 'tslvs runs one check per real server; only the first checker is translated');
    }
  }
  scope.finish();
  return { entry, health };
}

const HEALTH_ORDER = [
  'kind',
  'interval',
  'timeout',
  'rise',
  'fall',
  'port',
  'path',
  'host',
  'expectStatus',
  'bodyRegex',
  'tlsVerify',
  'query',
  'queryType',
  'helo',
  'command',
];

function ordered(h: RawHealth): RawHealth {
  const out: RawHealth = {};
  for (const k of HEALTH_ORDER) if (h[k] !== undefined) out[k] = h[k];
  return out;
}

/**
 * One health block for the service when all servers share it; otherwise the most common one for the
 * service and full overrides for the rest (keys an override would wrongly inherit are set explicitly).
 * A server without a checker is always up in keepalived: kind none.
 */
function placeHealth(
  service: Record<string, unknown>,
  realServers: Record<string, unknown>[],
  healths: (RawHealth | null)[],
  vipPort: number,
): void {
  const specs = healths.map((h) => ordered(h ?? { kind: 'none' }));
  if (specs.length === 0) return;
  const keys = specs.map((s) => JSON.stringify(s));
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const common = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const base = JSON.parse(common) as RawHealth;
  service.health = base;
  specs.forEach((spec, i) => {
    if (keys[i] === common) return;
    const override = { ...spec };
    const sameKind = spec.kind === base.kind;
    if (base.port !== undefined && spec.port === undefined) {
      const addr = String(realServers[i]!.address);
      override.port = Number(addr.slice(addr.lastIndexOf(':') + 1)) || vipPort;
    }
    if (sameKind && base.host !== undefined && spec.host === undefined) {
      override.host = String(realServers[i]!.address)
        .replace(/:\d+$/, '')
        .replace(/^\[|\]$/g, '');
    }
    if (sameKind && base.bodyRegex !== undefined && spec.bodyRegex === undefined) override.bodyRegex = '';
    realServers[i]!.health = ordered(override);
  });
}
