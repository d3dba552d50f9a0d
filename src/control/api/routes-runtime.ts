/**
 * Running state and the changes that are not about one resource: the session table (ipvsadm -Lc),
 * timeouts (--set), counters and rates, zeroing (-Z), health, and atomic batches (-R).
 */
import { formatEndpoint, formatIp, parseEndpoint, tryParseIp } from '../../engine/addr.js';
import type { CounterSnapshot } from '../../engine/counters.js';
import type { Rates } from '../../engine/estimator.js';
import type { ConnFilter } from '../../engine/snapshot.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { serviceKey } from '../config/diff.js';
import { isDryRun, runActions } from './apply.js';
import { parseAction, parseTimeouts } from './batch.js';
import { type ApiHost, intParam, jsonObject, requireConfigService } from './context.js';
import type { Router } from './router.js';
import { type JsonSchema, ref, str } from './schema-dsl.js';
import { SCHEMAS } from './schemas.js';
import { destKey, healthView, indexHealth } from './views.js';

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
const MAX_BATCH = 10_000;

const DRY_RUN = [
  {
    name: 'dryRun',
    schema: { type: 'string', enum: ['1', '0', 'true', 'false'] } as JsonSchema,
    description: '1: report what would change and change nothing',
  },
];

function canonicalAddress(v: string): string {
  const ip = tryParseIp(v);
  if (ip) return formatIp(ip);
  try {
    return formatEndpoint(parseEndpoint(v));
  } catch {
    throw new TslvsError(ErrorCodes.ADDRESS, `'${v}' is not an address or address:port`, { value: v });
  }
}

function sumCounters(items: CounterSnapshot[]): CounterSnapshot {
  const out = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
  for (const c of items) for (const k of Object.keys(out) as (keyof CounterSnapshot)[]) out[k] += c[k];
  return out;
}

function sumRates(items: Rates[]): Rates {
  const out = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
  for (const c of items) for (const k of Object.keys(out) as (keyof Rates)[]) out[k] += c[k];
  return out;
}

export function addRuntimeRoutes(router: Router, host: ApiHost): void {
  router.add({
    method: 'GET',
    path: '/v1/connections',
    mutates: false,
    summary: 'The session table, one page at a time (ipvsadm -Lc), filtered by service, client, real server',
    doc: {
      tags: ['runtime'],
      query: [
        { name: 'service', schema: str(), description: 'service name or key' },
        { name: 'client', schema: str(), description: 'client address, or address:port' },
        { name: 'rs', schema: str(), description: 'real server address:port, or address' },
        {
          name: 'templates',
          schema: { type: 'string', enum: ['1', '0'] },
          description: '0: leave persistence templates out',
        },
        {
          name: 'offset',
          schema: { type: 'integer', minimum: 0 },
          description: 'entries to skip (default 0)',
        },
        {
          name: 'limit',
          schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
          description: `page size (default ${DEFAULT_PAGE})`,
        },
      ],
      responses: { 200: { description: 'one page, in table order', schema: SCHEMAS.connectionPage } },
    },
    handler: async (req) => {
      const q = req.query;
      const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(q, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
      const filter: ConnFilter = {};
      const svc = q.get('service');
      if (svc) filter.service = serviceKey(requireConfigService(host.director.config, svc));
      const client = q.get('client');
      if (client) filter.client = canonicalAddress(client);
      const rs = q.get('rs');
      if (rs) filter.realServer = canonicalAddress(rs);
      const templates = q.get('templates');
      if (templates === '0' || templates === 'false') filter.templates = false;
      const page = await host.host.conns(filter, offset, limit);
      return { body: { total: page.total, offset, limit, items: page.items } };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/timeouts',
    mutates: false,
    summary: 'Session timeouts in seconds (ipvsadm -L --timeout)',
    doc: { tags: ['runtime'], responses: { 200: { description: 'timeouts', schema: ref('Timeouts') } } },
    handler: () => {
      const t = host.director.config.timeouts;
      return {
        body: {
          tcp: Math.round(t.tcpMs / 1000),
          tcpFin: Math.round(t.tcpFinMs / 1000),
          udp: Math.round(t.udpMs / 1000),
        },
      };
    },
  });
  router.add({
    method: 'PUT',
    path: '/v1/timeouts',
    mutates: true,
    summary: 'Set session timeouts (ipvsadm --set tcp tcpfin udp); 0 or absent leaves one unchanged',
    doc: {
      tags: ['runtime'],
      query: DRY_RUN,
      body: { schema: ref('Timeouts'), required: true },
      responses: { 200: { description: 'what changed', schema: ref('ApplyResult') } },
    },
    handler: async (req) => {
      const t = parseTimeouts(jsonObject(req, 'timeouts'));
      return { body: await runActions(host.director, [{ op: 'setTimeouts', ...t }], isDryRun(req.query)) };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/stats',
    mutates: false,
    summary:
      'Counters and rates per service and real server, session table, scheduling and data plane counters',
    doc: { tags: ['runtime'], responses: { 200: { description: 'statistics', schema: SCHEMAS.stats } } },
    handler: async () => {
      const snap = await host.host.snapshot();
      const services = snap.services.map((s) => ({
        name: s.name,
        key: s.key,
        stats: s.stats,
        rates: s.rates,
        realServers: s.dests.map((d) => ({ address: destKey(d), stats: d.stats, rates: d.rates })),
      }));
      return {
        body: {
          totals: {
            stats: sumCounters(services.map((s) => s.stats)),
            rates: sumRates(services.map((s) => s.rates)),
          },
          services,
          conntable: {
            count: snap.conntable.count,
            capacity: snap.conntable.capacity,
            inDefence: snap.conntable.inDefence,
            events: snap.conntable.stats,
          },
          scheduling: snap.balancer,
          dataplane: host.dataplane.stats(),
        },
      };
    },
  });
  router.add({
    method: 'POST',
    path: '/v1/zero',
    mutates: true,
    summary: 'Zero the counters of one service (?service=) or of all (ipvsadm -Z)',
    doc: {
      tags: ['runtime'],
      query: [{ name: 'service', schema: str(), description: 'service name or key; absent = all' }],
      responses: { 200: { description: 'done', schema: SCHEMAS.zero } },
    },
    handler: async (req) => {
      const id = req.query.get('service');
      const key = id ? serviceKey(requireConfigService(host.director.config, id)) : null;
      await host.director.zeroCounters(key);
      return { body: { zeroed: key ?? 'all' } };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/health',
    mutates: false,
    summary: 'Health of every real server (state, last check result and its reason) and quorum per service',
    doc: { tags: ['runtime'], responses: { 200: { description: 'health', schema: SCHEMAS.health } } },
    handler: () => {
      const d = host.director;
      const report = d.healthReport();
      const index = indexHealth(report);
      const config = d.config;
      return {
        body: {
          services: config.services.map((s) => {
            const key = serviceKey(s);
            return {
              name: s.name,
              key,
              up: d.serviceUp(key),
              healthy: report.filter((h) => h.service === key && h.healthy).length,
              total: s.realServers.length,
              quorum: s.quorum,
            };
          }),
          realServers: config.services.flatMap((s) =>
            s.realServers.map((rs) => {
              const key = serviceKey(s);
              const address = formatEndpoint(rs.address);
              const h = index.get(`${key}|${address}`);
              return { service: s.name, key, realServer: address, health: healthView(h, rs.health.kind) };
            }),
          ),
        },
      };
    },
  });
  router.add({
    method: 'POST',
    path: '/v1/batch',
    mutates: true,
    summary: 'Apply several changes as one: all or nothing, in order (tslvs adm -R uses it)',
    doc: {
      tags: ['services'],
      query: DRY_RUN,
      body: { schema: SCHEMAS.batch, required: true },
      responses: { 200: { description: 'what changed', schema: ref('ApplyResult') } },
    },
    handler: async (req) => {
      const body = jsonObject(req, 'batch');
      if (!Array.isArray(body.actions))
        throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'actions must be a list', { field: 'actions' });
      if (body.actions.length > MAX_BATCH)
        throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `at most ${MAX_BATCH} actions per batch`, {
          field: 'actions',
        });
      const actions = body.actions.map((a, i) => parseAction(a, i));
      return { body: await runActions(host.director, actions, isDryRun(req.query)) };
    },
  });
}
