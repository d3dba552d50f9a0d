/**
 * `POST /v1/simulate`: where would this flow go? The running config and live connection counters become a
 * simulation model (src/engine/simulate.ts) and a described packet sequence runs through a fresh copy of
 * the engine: the real server, the forwarding method and the session state after each packet. The running
 * balancer is not touched. Stateful schedulers (rr, wrr) start from their initial position in the copy.
 */
import { formatEndpoint, parseEndpoint } from '../../engine/addr.js';
import { type SimPacket, type SimService, simulateFlow } from '../../engine/simulate.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { realServerKey, serviceKey } from '../config/diff.js';
import { type ApiHost, jsonObject, requireConfigService } from './context.js';
import type { Router } from './router.js';
import { any, arr, enumOf, int, obj, str } from './schema-dsl.js';

function packetsOf(v: unknown): SimPacket[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'packets: give 1-64 packets');
  }
  return v.map((p, i) => {
    const o = p as Record<string, unknown>;
    if (o.dir !== 'in' && o.dir !== 'out')
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `packets[${i}].dir must be 'in' or 'out'`);
    if (o.flags !== undefined && (typeof o.flags !== 'string' || !/^[SAFRP]*$/i.test(o.flags))) {
      throw new TslvsError(
        ErrorCodes.INVALID_ARGUMENT,
        `packets[${i}].flags: TCP flags as letters S, A, F, R, P`,
      );
    }
    const afterMs = o.afterMs === undefined ? 0 : Number(o.afterMs);
    if (!Number.isFinite(afterMs) || afterMs < 0)
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `packets[${i}].afterMs must be >= 0`);
    return { dir: o.dir, ...(o.flags !== undefined ? { flags: String(o.flags) } : {}), afterMs };
  });
}

export function addSimulateRoute(router: Router, host: ApiHost): void {
  router.add({
    method: 'POST',
    path: '/v1/simulate',
    mutates: false,
    summary: 'Where would this flow go: real server and session states for a described packet sequence',
    doc: {
      tags: ['runtime'],
      body: {
        required: true,
        schema: obj({
          service: str('service name or key'),
          client: str('client address:port'),
          'packets?': arr(
            obj({
              dir: enumOf(['in', 'out']),
              'flags?': str('TCP flags: S A F R P'),
              'afterMs?': int(undefined, 0),
            }),
            'default: one SYN (or one datagram)',
          ),
        }),
      },
      responses: { 200: { description: 'the simulated flow', schema: any('realServer, forwarding, steps') } },
    },
    handler: async (req) => {
      const body = jsonObject(req, 'simulation request');
      const config = host.director.config;
      const svc = requireConfigService(config, String(body.service ?? ''));
      let client: string;
      try {
        client = formatEndpoint(parseEndpoint(String(body.client ?? '')));
      } catch {
        throw new TslvsError(ErrorCodes.ADDRESS, `client: '${String(body.client)}' is not an address:port`);
      }
      const snap = await host.host.snapshot();
      const live = snap.services.find((s) => s.key === serviceKey(svc));
      const health = host.director.healthReport();
      const model: SimService = {
        name: svc.name,
        protocol: svc.protocol,
        address: formatEndpoint(svc.address),
        scheduler: svc.scheduler.name,
        schedulerOptions: svc.scheduler.options,
        persistence: svc.persistence
          ? { timeoutMs: svc.persistence.timeoutMs, prefixLen: svc.persistence.prefixLength }
          : null,
        forwarding: config.dataplane.kind === 'proxy' ? 'proxy' : svc.forwarding,
        sorryServer: svc.sorryServer ? formatEndpoint(svc.sorryServer) : null,
        // In the live engine's list order (IPVS links new dests at the head), so ties break the same way.
        realServers: (live?.dests ?? []).flatMap((d) => {
          const key = formatEndpoint({
            addr: parseEndpoint(`${d.address.includes(':') ? `[${d.address}]` : d.address}:${d.port}`).addr,
            port: d.port,
          });
          const rs = svc.realServers.find((r) => realServerKey(r) === key);
          if (!rs) return [];
          const h = health.find((x) => x.service === serviceKey(svc) && x.realServer === key);
          return [
            {
              address: key,
              weight: d.weight,
              activeConns: d.activeConns,
              inactiveConns: d.inactConns,
              upperThreshold: rs.maxConnections,
              lowerThreshold: rs.lowerThreshold,
              up: (h?.healthy ?? true) && d.listed,
            },
          ];
        }),
      };
      const packets = packetsOf(body.packets);
      return { body: simulateFlow(model, client, packets) };
    },
  });
}
