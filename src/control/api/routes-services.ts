/**
 * Services and real servers: list, get, add, replace, edit (merge patch), delete, drain. Every change is
 * an action on the running config (edit.ts) applied through the director (apply.ts).
 */
import { serviceKey } from '../config/diff.js';
import type { ServiceConfig } from '../config/types.js';
import { isDryRun, runActions } from './apply.js';
import {
  type ApiHost,
  findConfigService,
  jsonObject,
  requireConfigRealServer,
  requireConfigService,
} from './context.js';
import type { Action } from './edit.js';
import type { ApiResponse, Router } from './router.js';
import { arr, type JsonSchema, obj, ref } from './schema-dsl.js';
import { SCHEMAS } from './schemas.js';
import { indexHealth, serviceView, serviceViews } from './views.js';

const SERVICE_PARAM = {
  service: 'service name, or key: tcp/10.0.0.1:80, tcp:10.0.0.1:80, udp:[2001:db8::1]:53',
};
const RS_PARAMS = {
  ...SERVICE_PARAM,
  realServer: 'ip:port or [v6]:port (URL-encoded), or an address (the service port)',
};
const DRY_RUN = [
  {
    name: 'dryRun',
    schema: { type: 'string', enum: ['1', '0', 'true', 'false'] } as JsonSchema,
    description: '1: report what would change and change nothing',
  },
];
const RESULT = { 200: { description: 'what changed (nothing on a repeat)', schema: ref('ApplyResult') } };

async function mutate(
  host: ApiHost,
  actions: Action[],
  query: URLSearchParams,
  status = 200,
): Promise<ApiResponse> {
  const dryRun = isDryRun(query);
  const body = await runActions(host.director, actions, dryRun);
  return { status: dryRun ? 200 : status, body };
}

async function snapshotOf(d: ApiHost['director'], s: ServiceConfig) {
  const key = serviceKey(s);
  return (await d.host.snapshot()).services.find((x) => x.key === key);
}

function location(name: string, rs?: string): Record<string, string> {
  const base = `/v1/services/${encodeURIComponent(name)}`;
  return { Location: rs ? `${base}/realservers/${encodeURIComponent(rs)}` : base };
}

export function addServiceRoutes(router: Router, host: ApiHost): void {
  router.add({
    method: 'GET',
    path: '/v1/services',
    mutates: false,
    summary: 'Virtual services with their real servers, counters, rates and health',
    doc: {
      tags: ['services'],
      responses: {
        200: {
          description: 'every service, in config order',
          schema: obj({ services: arr(ref('Service')) }),
        },
      },
    },
    handler: async () => ({ body: { services: await serviceViews(host.director) } }),
  });
  router.add({
    method: 'POST',
    path: '/v1/services',
    mutates: true,
    summary: 'Add a virtual service (ipvsadm -A); 409 if its address or name exists',
    doc: {
      tags: ['services'],
      query: DRY_RUN,
      body: { schema: ref('ServiceInput'), required: true },
      responses: { 201: { description: 'created', schema: ref('ApplyResult') }, ...RESULT },
    },
    handler: async (req) => {
      const service = jsonObject(req, 'service');
      const r = await mutate(host, [{ op: 'addService', service }], req.query, 201);
      return { ...r, headers: location(String(service.name)) };
    },
  });
  router.add({
    method: 'DELETE',
    path: '/v1/services',
    mutates: true,
    summary: 'Remove every virtual service (ipvsadm -C)',
    doc: { tags: ['services'], query: DRY_RUN, responses: RESULT },
    handler: (req) => mutate(host, [{ op: 'clearServices' }], req.query),
  });
  router.add({
    method: 'GET',
    path: '/v1/services/{service}',
    mutates: false,
    summary: 'One virtual service',
    doc: {
      tags: ['services'],
      params: SERVICE_PARAM,
      responses: { 200: { description: 'the service', schema: ref('Service') } },
    },
    handler: async (req) => {
      const d = host.director;
      const s = requireConfigService(d.config, req.params.service!);
      return {
        body: serviceView(
          s,
          d.config,
          await snapshotOf(d, s),
          indexHealth(d.healthReport()),
          d.serviceUp(serviceKey(s)),
        ),
      };
    },
  });
  router.add({
    method: 'PUT',
    path: '/v1/services/{service}',
    mutates: true,
    summary:
      'Create or replace a whole service (real servers included); name, protocol and address default from the path',
    doc: {
      tags: ['services'],
      params: SERVICE_PARAM,
      query: DRY_RUN,
      body: { schema: ref('ServiceInput'), required: true },
      responses: { 201: { description: 'created', schema: ref('ApplyResult') }, ...RESULT },
    },
    handler: async (req) => {
      const id = req.params.service!;
      const existed = findConfigService(host.director.config, id) !== undefined;
      return mutate(
        host,
        [{ op: 'putService', id, service: jsonObject(req, 'service') }],
        req.query,
        existed ? 200 : 201,
      );
    },
  });
  router.add({
    method: 'PATCH',
    path: '/v1/services/{service}',
    mutates: true,
    summary:
      'Edit a service (ipvsadm -E): scheduler, persistence, health...; JSON merge patch, null resets a key',
    doc: {
      tags: ['services'],
      params: SERVICE_PARAM,
      query: DRY_RUN,
      body: {
        schema: SCHEMAS.servicePatch,
        required: true,
        contentTypes: ['application/json', 'application/merge-patch+json'],
      },
      responses: RESULT,
    },
    handler: (req) =>
      mutate(
        host,
        [{ op: 'editService', id: req.params.service!, changes: jsonObject(req, 'merge patch') }],
        req.query,
      ),
  });
  router.add({
    method: 'DELETE',
    path: '/v1/services/{service}',
    mutates: true,
    summary: 'Remove a service (ipvsadm -D)',
    doc: { tags: ['services'], params: SERVICE_PARAM, query: DRY_RUN, responses: RESULT },
    handler: (req) => mutate(host, [{ op: 'deleteService', id: req.params.service! }], req.query),
  });
  addRealServerRoutes(router, host);
}

function addRealServerRoutes(router: Router, host: ApiHost): void {
  router.add({
    method: 'GET',
    path: '/v1/services/{service}/realservers',
    mutates: false,
    summary: "A service's real servers",
    doc: {
      tags: ['real servers'],
      params: SERVICE_PARAM,
      responses: {
        200: { description: 'real servers', schema: obj({ realServers: arr(ref('RealServer')) }) },
      },
    },
    handler: async (req) => {
      const d = host.director;
      const s = requireConfigService(d.config, req.params.service!);
      const view = serviceView(s, d.config, await snapshotOf(d, s), indexHealth(d.healthReport()), true);
      return { body: { realServers: view.realServers } };
    },
  });
  router.add({
    method: 'POST',
    path: '/v1/services/{service}/realservers',
    mutates: true,
    summary: 'Add a real server (ipvsadm -a); 409 if it exists',
    doc: {
      tags: ['real servers'],
      params: SERVICE_PARAM,
      query: DRY_RUN,
      body: { schema: ref('RealServerInput'), required: true },
      responses: { 201: { description: 'created', schema: ref('ApplyResult') }, ...RESULT },
    },
    handler: async (req) => {
      const id = req.params.service!;
      const realServer = jsonObject(req, 'real server');
      const r = await mutate(host, [{ op: 'addRealServer', id, realServer }], req.query, 201);
      return { ...r, headers: location(id, String(realServer.address)) };
    },
  });
  router.add({
    method: 'GET',
    path: '/v1/services/{service}/realservers/{realServer}',
    mutates: false,
    summary: 'One real server: configuration, weight, connections, counters, health with the last check',
    doc: {
      tags: ['real servers'],
      params: RS_PARAMS,
      responses: { 200: { description: 'the real server', schema: ref('RealServer') } },
    },
    handler: async (req) => {
      const d = host.director;
      const s = requireConfigService(d.config, req.params.service!);
      const rs = requireConfigRealServer(s, req.params.service!, req.params.realServer!);
      const view = serviceView(
        { ...s, realServers: [rs] },
        d.config,
        await snapshotOf(d, s),
        indexHealth(d.healthReport()),
        true,
      );
      return { body: view.realServers[0] };
    },
  });
  router.add({
    method: 'PUT',
    path: '/v1/services/{service}/realservers/{realServer}',
    mutates: true,
    summary: 'Create or replace a real server; the address defaults from the path',
    doc: {
      tags: ['real servers'],
      params: RS_PARAMS,
      query: DRY_RUN,
      body: { schema: ref('RealServerInput'), required: true },
      responses: RESULT,
    },
    handler: (req) =>
      mutate(
        host,
        [
          {
            op: 'putRealServer',
            id: req.params.service!,
            rs: req.params.realServer!,
            realServer: jsonObject(req, 'real server'),
          },
        ],
        req.query,
      ),
  });
  router.add({
    method: 'PATCH',
    path: '/v1/services/{service}/realservers/{realServer}',
    mutates: true,
    summary: 'Edit a real server (ipvsadm -e): weight, thresholds, forwarding, health; merge patch',
    doc: {
      tags: ['real servers'],
      params: RS_PARAMS,
      query: DRY_RUN,
      body: {
        schema: SCHEMAS.realServerPatch,
        required: true,
        contentTypes: ['application/json', 'application/merge-patch+json'],
      },
      responses: RESULT,
    },
    handler: (req) =>
      mutate(
        host,
        [
          {
            op: 'editRealServer',
            id: req.params.service!,
            rs: req.params.realServer!,
            changes: jsonObject(req, 'merge patch'),
          },
        ],
        req.query,
      ),
  });
  router.add({
    method: 'DELETE',
    path: '/v1/services/{service}/realservers/{realServer}',
    mutates: true,
    summary: 'Remove a real server (ipvsadm -d)',
    doc: { tags: ['real servers'], params: RS_PARAMS, query: DRY_RUN, responses: RESULT },
    handler: (req) =>
      mutate(
        host,
        [{ op: 'deleteRealServer', id: req.params.service!, rs: req.params.realServer! }],
        req.query,
      ),
  });
  router.add({
    method: 'POST',
    path: '/v1/services/{service}/realservers/{realServer}/drain',
    mutates: true,
    summary: 'Drain a real server: weight 0, existing connections stay (undo with PATCH weight)',
    doc: { tags: ['real servers'], params: RS_PARAMS, query: DRY_RUN, responses: RESULT },
    handler: async (req) => {
      const id = req.params.service!;
      const rs = requireConfigRealServer(
        requireConfigService(host.director.config, id),
        id,
        req.params.realServer!,
      );
      const r = await mutate(
        host,
        [{ op: 'editRealServer', id, rs: req.params.realServer!, changes: { weight: 0 } }],
        req.query,
      );
      return { ...r, body: { ...(r.body as object), previousWeight: rs.weight } };
    },
  });
}
