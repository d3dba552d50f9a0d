/**
 * The admin API's routes. Handlers talk to the daemon's director and engine host only.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfigText } from '../config/load.js';
import type { Daemon } from '../daemon.js';
import type { ApplyResult } from '../director/director.js';
import { Router } from './router.js';
import { registerHaRoutes } from './routes-ha.js';

function describe(r: ApplyResult) {
  return {
    applied: r.applied,
    changes: r.changes.map((c) => {
      const { before: _b, after: _a, ...rest } = c as Record<string, unknown>;
      return rest;
    }),
    operations: r.ops.length,
    needsRestart: r.needsRestart,
  };
}

export function buildRouter(daemon: Daemon): Router {
  const router = new Router();
  router.add({
    method: 'GET',
    path: '/v1/status',
    mutates: false,
    summary: 'Daemon status: version, uptime, data plane, counts',
    handler: async () => {
      const snap = await daemon.host.snapshot();
      return {
        body: {
          version: '0.1.0',
          pid: process.pid,
          uptimeSeconds: Math.round((Date.now() - daemon.startedAt) / 1000),
          configFile: daemon.configFile,
          dataplane: daemon.dataplane.kind,
          services: snap.services.length,
          realServers: snap.services.reduce((n, s) => n + s.dests.length, 0),
          connections: snap.conntable.count,
          director: daemon.director.counters,
          dataplaneStats: daemon.dataplane.stats(),
        },
      };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/services',
    mutates: false,
    summary: 'Virtual services with their real servers, counters, rates and health',
    handler: async () => {
      const snap = await daemon.host.snapshot();
      const health = daemon.director.healthReport();
      return {
        body: {
          services: snap.services.map((s) => ({
            ...s,
            up: daemon.director.serviceUp(s.key),
            dests: s.dests.map((d) => {
              const rs = `${d.address.includes(':') ? `[${d.address}]` : d.address}:${d.port}`;
              const h = health.find((x) => x.service === s.key && x.realServer === rs);
              return { ...d, healthy: h?.healthy ?? true, lastCheck: h?.status?.lastResult ?? null };
            }),
          })),
        },
      };
    },
  });
  router.add({
    method: 'POST',
    path: '/v1/reload',
    mutates: true,
    summary: 'Re-read the config file and apply the difference',
    handler: async () => ({ body: describe(await daemon.reload()) }),
  });
  router.add({
    method: 'POST',
    path: '/v1/config',
    mutates: true,
    summary: 'Apply a whole config (YAML or JSON body) as a diff; ?dryRun=1 shows it and changes nothing',
    handler: async (req) => {
      const dryRun = ['1', 'true', 'yes'].includes(req.query.get('dryRun') ?? '');
      const { config } = parseConfigText(req.body, 'request body', {
        env: process.env,
        readSecretFile: (p) => readFileSync(resolve(p), 'utf8'),
      });
      return { body: describe(await daemon.director.apply(config, { dryRun })) };
    },
  });
  registerHaRoutes(router, daemon);
  return router;
}
