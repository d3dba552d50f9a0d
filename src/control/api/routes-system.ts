/**
 * The daemon as a whole: status, the running config (read it, or replace it by a whole new one as a
 * diff), reload from the file, the OpenAPI document and Prometheus metrics.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { configToJson } from '../config/json.js';
import { parseConfigText } from '../config/load.js';
import { configToRaw } from '../config/raw.js';
import { collectMetrics } from '../metrics/collect.js';
import { CONTENT_TYPE } from '../metrics/exposition.js';
import { describeResult, isDryRun } from './apply.js';
import { type ApiHost, VERSION } from './context.js';
import { openApiDocument } from './openapi.js';
import type { Router } from './router.js';
import { enumOf, type JsonSchema, obj, ref, str } from './schema-dsl.js';
import { SCHEMAS } from './schemas.js';

const DRY_RUN = [
  {
    name: 'dryRun',
    schema: { type: 'string', enum: ['1', '0', 'true', 'false'] } as JsonSchema,
    description: '1: report what would change and change nothing',
  },
];

const SECRETS = new Set(['token', 'key', 'authPass']);

function redact(v: unknown, key: string | null = null): unknown {
  if (key !== null && SECRETS.has(key) && typeof v === 'string') return '<redacted>';
  if (Array.isArray(v)) return v.map((x) => redact(x));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
  return v;
}

export function addSystemRoutes(
  router: Router,
  host: ApiHost,
  env: () => Readonly<Record<string, string | undefined>>,
): void {
  router.add({
    method: 'GET',
    path: '/v1/status',
    mutates: false,
    summary: 'Daemon status: version, uptime, data plane, counts',
    doc: { tags: ['system'], responses: { 200: { description: 'status', schema: SCHEMAS.status } } },
    handler: async () => {
      const snap = await host.host.snapshot();
      return {
        body: {
          version: VERSION,
          pid: process.pid,
          uptimeSeconds: Math.round((Date.now() - host.startedAt) / 1000),
          configFile: host.configFile,
          dataplane: host.dataplane.kind,
          services: snap.services.length,
          realServers: snap.services.reduce((n, s) => n + s.dests.length, 0),
          connections: snap.conntable.count,
          conntable: { count: snap.conntable.count, capacity: snap.conntable.capacity },
          director: { ...host.director.counters },
          dataplaneStats: host.dataplane.stats(),
        },
      };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/config',
    mutates: false,
    summary:
      'The running config: normalized (every default applied), or ?format=raw as a file would hold it; secrets redacted',
    doc: {
      tags: ['system'],
      query: [{ name: 'format', schema: enumOf(['normalized', 'raw']), description: 'default normalized' }],
      responses: { 200: { description: 'the config', schema: SCHEMAS.configView } },
    },
    handler: (req) => {
      const format = req.query.get('format') ?? 'normalized';
      const config = host.director.config;
      if (format === 'raw') return { body: { config: redact(configToRaw(config)) } };
      if (format !== 'normalized')
        throw new TslvsError(
          ErrorCodes.INVALID_ARGUMENT,
          `format must be normalized or raw (got '${format}')`,
          {
            field: 'format',
          },
        );
      return { body: { config: configToJson(config) } };
    },
  });
  router.add({
    method: 'POST',
    path: '/v1/config',
    mutates: true,
    summary: 'Apply a whole config (YAML or JSON body) as a diff; ?dryRun=1 shows it and changes nothing',
    doc: {
      tags: ['system'],
      query: DRY_RUN,
      body: {
        schema: SCHEMAS.configBody,
        required: true,
        contentTypes: ['application/yaml', 'application/json'],
        description:
          "a whole config file (docs/config.md); secret files resolve next to the daemon's config file",
      },
      responses: { 200: { description: 'what changed', schema: ref('ApplyResult') } },
    },
    handler: async (req) => {
      const dryRun = isDryRun(req.query);
      const base = host.configFile ? dirname(resolve(host.configFile)) : process.cwd();
      const { config, warnings } = parseConfigText(req.body, 'request body', {
        env: env(),
        readSecretFile: (p) => readFileSync(resolve(base, p), 'utf8'),
      });
      const r = await host.director.apply(config, { dryRun });
      return { body: describeResult(r, dryRun, warnings) };
    },
  });
  router.add({
    method: 'POST',
    path: '/v1/reload',
    mutates: true,
    summary: 'Re-read the config file and apply the difference (replaces changes made through the API)',
    doc: {
      tags: ['system'],
      query: DRY_RUN,
      responses: { 200: { description: 'what changed', schema: ref('ApplyResult') } },
    },
    handler: async (req) => {
      const dryRun = isDryRun(req.query);
      return { body: describeResult(await host.reload({ dryRun }), dryRun) };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/openapi.json',
    mutates: false,
    summary: 'This API as an OpenAPI 3.1 document',
    doc: {
      tags: ['system'],
      responses: { 200: { description: 'the document', schema: obj({}, { open: true }) } },
    },
    handler: () => ({ body: openApiDocument(router) }),
  });
  router.add({
    method: 'GET',
    path: '/metrics',
    mutates: false,
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    doc: {
      tags: ['system'],
      responses: { 200: { description: 'metrics', schema: str(), contentType: 'text/plain' } },
    },
    handler: async () => ({ body: await collectMetrics(host), contentType: CONTENT_TYPE }),
  });
}
