/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table (each route carries its
 * parameters, body and responses), so every served route is documented and nothing else is.
 */

import { VERSION } from './context.js';
import type { Route, Router } from './router.js';
import { ref } from './schema-dsl.js';
import { COMPONENTS } from './schemas.js';

const ERROR = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

const COMMON_ERRORS = {
  400: ERROR('invalid request (TSLVS_ERR_INVALID_ARGUMENT, TSLVS_ERR_ADDRESS, TSLVS_ERR_MALFORMED)'),
  404: ERROR('no such service or real server (TSLVS_ERR_SERVICE_NOT_FOUND, TSLVS_ERR_DEST_NOT_FOUND)'),
  500: ERROR('internal or environment error (TSLVS_ERR_ENVIRONMENT: e.g. a listener could not open)'),
};

const CHANGE_ERRORS = {
  401: ERROR('no bearer token (TSLVS_ERR_UNAUTHORIZED)'),
  403: ERROR('wrong token, or no token configured (TSLVS_ERR_FORBIDDEN)'),
  409: ERROR('already exists (TSLVS_ERR_SERVICE_EXISTS, TSLVS_ERR_DEST_EXISTS)'),
  422: ERROR('the resulting config is invalid (TSLVS_ERR_CONFIG, details.issues[])'),
};

function operationId(r: Route): string {
  const words = r.path
    .split('/')
    .filter((w) => w && w !== 'v1')
    .map((w) => w.replace(/[{}.]/g, ''));
  return [r.method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

function operation(r: Route): Record<string, unknown> {
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1]!,
    in: 'path',
    required: true,
    description: r.doc.params?.[m[1]!] ?? m[1]!,
    schema: { type: 'string' },
  }));
  const query = (r.doc.query ?? []).map((q) => ({
    name: q.name,
    in: 'query',
    required: false,
    description: q.description,
    schema: q.schema,
  }));
  const responses: Record<string, unknown> = {};
  for (const [status, res] of Object.entries(r.doc.responses)) {
    const ct = res.contentType ?? 'application/json';
    responses[status] = {
      description: res.description,
      ...(res.schema ? { content: { [ct]: { schema: res.schema } } } : {}),
    };
  }
  Object.assign(responses, COMMON_ERRORS, r.mutates ? CHANGE_ERRORS : {});
  const op: Record<string, unknown> = {
    operationId: operationId(r),
    summary: r.summary,
    ...(r.doc.description ? { description: r.doc.description } : {}),
    tags: r.doc.tags,
    parameters: [...params, ...query],
    responses,
    security: r.mutates ? [{ bearer: [] }] : [],
  };
  if (r.doc.body) {
    const types = r.doc.body.contentTypes ?? ['application/json'];
    op.requestBody = {
      required: r.doc.body.required,
      ...(r.doc.body.description ? { description: r.doc.body.description } : {}),
      content: Object.fromEntries(types.map((t) => [t, { schema: r.doc.body!.schema }])),
    };
  }
  return op;
}

export function openApiDocument(router: Router): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of router.routes) {
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tslvs admin API',
      version: VERSION,
      description:
        'Changes need Authorization: Bearer <token>; reads are open on loopback. Errors are {error: {code, message, details}} with a stable code. See docs/api.md.',
    },
    servers: [{ url: 'http://127.0.0.1:9090' }],
    paths,
    components: {
      schemas: COMPONENTS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}
