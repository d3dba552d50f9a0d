/**
 * The admin API server: HTTP + JSON on localhost by default. Every route that changes state needs
 * `Authorization: Bearer <token>` (401 without credentials, 403 with wrong ones); errors are JSON with a
 * stable `code` (`{ error: { code, message, details } }`).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Endpoint, formatIp } from '../../engine/addr.js';
import { ErrorCodes, isTslvsError, TslvsError } from '../../errors.js';
import type { Logger } from '../logger.js';
import type { ApiRequest, ApiResponse, Router } from './router.js';

const MAX_BODY = 4 * 1024 * 1024;

const STATUS_BY_CODE: Record<string, number> = {
  [ErrorCodes.CONFIG]: 422,
  [ErrorCodes.ADDRESS]: 400,
  [ErrorCodes.SCHEDULER]: 400,
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.MALFORMED]: 400,
  [ErrorCodes.SERVICE_EXISTS]: 409,
  [ErrorCodes.DEST_EXISTS]: 409,
  [ErrorCodes.SERVICE_NOT_FOUND]: 404,
  [ErrorCodes.DEST_NOT_FOUND]: 404,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.CAPACITY]: 507,
  [ErrorCodes.USAGE]: 400,
  [ErrorCodes.UNAVAILABLE]: 503,
  [ErrorCodes.ENVIRONMENT]: 500,
};

export function httpStatusOf(err: TslvsError): number {
  return STATUS_BY_CODE[err.code] ?? 500;
}

export interface AdminServerOptions {
  listen: Endpoint;
  token: string | null;
  router: Router;
  logger: Logger;
}

function tokenMatches(header: string | undefined, token: string): boolean | null {
  if (!header) return null;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class AdminServer {
  readonly server: http.Server;
  readonly #opts: AdminServerOptions;

  constructor(opts: AdminServerOptions) {
    this.#opts = opts;
    this.server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        opts.logger.error({ err }, 'admin API handler crashed');
        if (!res.headersSent)
          this.#send(res, 500, { error: { code: ErrorCodes.INTERNAL, message: 'internal error' } });
      });
    });
    this.server.keepAliveTimeout = 5000;
    this.server.headersTimeout = 10000;
    this.server.requestTimeout = 30000;
  }

  listen(): Promise<AddressInfo> {
    const { listen } = this.#opts;
    return new Promise((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new TslvsError(
            ErrorCodes.ENVIRONMENT,
            `admin API cannot listen on ${formatIp(listen.addr)}:${listen.port}: ${err.code ?? err.message}`,
          ),
        ),
      );
      this.server.listen({ host: formatIp(listen.addr), port: listen.port }, () =>
        resolve(this.server.address() as AddressInfo),
      );
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const method = req.method ?? 'GET';
    let found: ReturnType<Router['match']>;
    try {
      found = this.#opts.router.match(method === 'HEAD' ? 'GET' : method, url.pathname);
    } catch (err) {
      if (isTslvsError(err)) return this.#error(res, err);
      throw err;
    }
    if (!found)
      return this.#error(res, new TslvsError(ErrorCodes.NOT_FOUND, `no route for ${method} ${url.pathname}`));
    if ('allowed' in found) {
      res.setHeader('Allow', found.allowed.join(', '));
      return this.#send(res, 405, {
        error: {
          code: ErrorCodes.INVALID_ARGUMENT,
          message: `${method} is not allowed on ${url.pathname}`,
          details: { allowed: found.allowed },
        },
      });
    }
    const token = this.#opts.token;
    const auth = token === null ? null : tokenMatches(req.headers.authorization, token);
    // Reads are open on loopback; from anywhere else they need the token too (when there is one).
    const local = isLoopback(req.socket.remoteAddress);
    if (!found.route.mutates && !local && token !== null && auth !== true) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="tslvs"');
      return this.#error(
        res,
        auth === null
          ? new TslvsError(
              ErrorCodes.UNAUTHORIZED,
              'reads from outside this host need Authorization: Bearer <token>',
            )
          : new TslvsError(ErrorCodes.FORBIDDEN, 'wrong admin token'),
      );
    }
    if (found.route.mutates) {
      if (token === null)
        return this.#error(
          res,
          new TslvsError(
            ErrorCodes.FORBIDDEN,
            'changes are disabled: the daemon has no admin token configured',
          ),
        );
      if (auth === null) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="tslvs"');
        return this.#error(
          res,
          new TslvsError(
            ErrorCodes.UNAUTHORIZED,
            'this request changes state: send Authorization: Bearer <token>',
          ),
        );
      }
      if (!auth) return this.#error(res, new TslvsError(ErrorCodes.FORBIDDEN, 'wrong admin token'));
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      return this.#error(res, err as TslvsError);
    }
    let json: unknown;
    if (body !== '' && /json/.test(req.headers['content-type'] ?? 'application/json')) {
      try {
        json = JSON.parse(body);
      } catch (err) {
        return this.#error(
          res,
          new TslvsError(ErrorCodes.MALFORMED, `request body is not valid JSON: ${(err as Error).message}`),
        );
      }
    }
    const apiReq: ApiRequest = {
      method,
      path: url.pathname,
      params: found.params,
      query: url.searchParams,
      headers: req.headers,
      body,
      json,
      authenticated: auth === true,
    };
    let out: ApiResponse;
    try {
      out = await found.route.handler(apiReq);
    } catch (err) {
      if (isTslvsError(err)) return this.#error(res, err);
      throw err;
    }
    if (found.route.mutates)
      this.#opts.logger.info({ method, path: url.pathname, status: out.status ?? 200 }, 'admin change');
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    this.#send(res, out.status ?? 200, out.body, out.contentType);
  }

  #error(res: http.ServerResponse, err: TslvsError): void {
    this.#send(res, httpStatusOf(err), { error: err.toJSON() });
  }

  #send(res: http.ServerResponse, status: number, body: unknown, contentType?: string): void {
    const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
    res.writeHead(status, {
      'Content-Type':
        contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'),
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  }
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\./.test(a);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new TslvsError(ErrorCodes.INVALID_ARGUMENT, `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
