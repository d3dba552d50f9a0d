/**
 * A small HTTP router for the admin API: routes are (method, path pattern) with `{param}` segments;
 * handlers get the parsed request and return a JSON-able body (or throw a TslvsError). Each route carries
 * its documentation (parameters, body, responses as JSON Schema), from which the OpenAPI document is
 * generated, so the served document and the routes cannot drift apart.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { JsonSchema } from './schema-dsl.js';

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Raw body text ('' when none). */
  body: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  /** Whether the request carried the right bearer token. */
  authenticated: boolean;
}

export interface ApiResponse {
  status?: number;
  /** JSON value, or a string sent as text/plain. */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export interface QueryDoc {
  name: string;
  schema: JsonSchema;
  description: string;
}

export interface ResponseDoc {
  description: string;
  schema?: JsonSchema;
  /** Default application/json. */
  contentType?: string;
}

export interface RouteDoc {
  tags: string[];
  description?: string;
  /** Descriptions of the `{param}` segments. */
  params?: Record<string, string>;
  query?: QueryDoc[];
  body?: { schema: JsonSchema; required: boolean; contentTypes?: string[]; description?: string };
  /** Success responses; the error responses every route shares are added by the document builder. */
  responses: Record<number, ResponseDoc>;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: Method;
  path: string;
  /** Changes state: requires the bearer token. */
  mutates: boolean;
  summary: string;
  doc: RouteDoc;
  handler: Handler;
}

interface Compiled {
  route: Route;
  re: RegExp;
  names: string[];
}

export class Router {
  readonly routes: Route[] = [];
  readonly #compiled: Compiled[] = [];

  add(route: Route): void {
    if (this.routes.some((r) => r.method === route.method && r.path === route.path))
      throw new Error(`duplicate route ${route.method} ${route.path}`);
    const names: string[] = [];
    const pattern = route.path
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
    this.routes.push(route);
    this.#compiled.push({ route, re: new RegExp(`^${pattern}$`), names });
  }

  /** The matching route and its params; `allowed` lists methods for a path that exists with others. */
  match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const c of this.#compiled) {
      const m = c.re.exec(path);
      if (!m) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => {
        params[n] = decodeSegment(m[i + 1]!, n);
      });
      return { route: c.route, params };
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}

function decodeSegment(text: string, name: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TslvsError(ErrorCodes.MALFORMED, `path parameter ${name} is not valid percent-encoding`, {
      param: name,
    });
  }
}
