/**
 * A small HTTP router for the admin API: routes are (method, path pattern) with `{param}` segments;
 * handlers get the parsed request and return a JSON-able body (or throw a TslvsError).
 */
import type { IncomingMessage } from 'node:http';

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
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Changes state: requires the bearer token. */
  mutates: boolean;
  summary: string;
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
        params[n] = decodeURIComponent(m[i + 1]!);
      });
      return { route: c.route, params };
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}
