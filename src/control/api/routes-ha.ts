/**
 * Admin API routes for VRRP: `GET /v1/ha` (every instance) and `GET /v1/ha/{instance}`.
 */
import { PacketDataPlane } from '../../dataplane/packet/packet-dataplane.js';
import type { DataPlane } from '../../dataplane/types.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { HaController } from '../../ha/controller.js';
import type { Router } from './router.js';
import { any, arr, bool, obj } from './schema-dsl.js';

export function registerHaRoutes(
  router: Router,
  daemon: { readonly ha: HaController | null; readonly dataplane: DataPlane },
): void {
  router.add({
    method: 'GET',
    path: '/v1/ha',
    mutates: false,
    summary: 'VRRP instances: state, priorities, master seen, counters, last transition',
    doc: {
      tags: ['ha'],
      responses: {
        200: {
          description: 'VRRP status',
          schema: obj({
            enabled: bool('whether any VRRP instance is configured'),
            instances: arr(any('an instance status')),
            sync: any('session sync status (packet mode), or null'),
          }),
        },
      },
    },
    handler: async () => {
      const packet = daemon.dataplane instanceof PacketDataPlane ? daemon.dataplane : null;
      return {
        body: {
          enabled: daemon.ha !== null,
          instances: daemon.ha?.status().instances ?? [],
          // Session sync (packet mode): peers, epochs, sequence gaps, snapshot state, counters.
          sync: packet ? await packet.syncStatus() : null,
        },
      };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/ha/{instance}',
    mutates: false,
    summary: 'One VRRP instance',
    doc: {
      tags: ['ha'],
      params: { instance: 'VRRP instance name' },
      responses: {
        200: { description: 'instance status', schema: any('state, priorities, master seen, counters') },
      },
    },
    handler: (req) => {
      const name = req.params.instance ?? '';
      const inst = daemon.ha?.instance(name);
      if (!inst)
        throw new TslvsError(ErrorCodes.NOT_FOUND, `no VRRP instance named '${name}'`, { instance: name });
      return { body: inst.status() };
    },
  });
}
