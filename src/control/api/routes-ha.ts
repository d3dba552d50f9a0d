/**
 * Admin API routes for VRRP: `GET /v1/ha` (every instance) and `GET /v1/ha/{instance}`.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { HaController } from '../../ha/controller.js';
import type { Router } from './router.js';

export function registerHaRoutes(router: Router, daemon: { readonly ha: HaController | null }): void {
  router.add({
    method: 'GET',
    path: '/v1/ha',
    mutates: false,
    summary: 'VRRP instances: state, priorities, master seen, counters, last transition',
    handler: () => ({
      body: { enabled: daemon.ha !== null, instances: daemon.ha?.status().instances ?? [] },
    }),
  });
  router.add({
    method: 'GET',
    path: '/v1/ha/{instance}',
    mutates: false,
    summary: 'One VRRP instance',
    handler: (req) => {
      const name = req.params.instance ?? '';
      const inst = daemon.ha?.instance(name);
      if (!inst)
        throw new TslvsError(ErrorCodes.NOT_FOUND, `no VRRP instance named '${name}'`, { instance: name });
      return { body: inst.status() };
    },
  });
}
