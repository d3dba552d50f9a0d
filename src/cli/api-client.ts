/**
 * Talks to a running daemon's admin API: the CLI's only way in (it never touches engine state itself).
 */
import { type ErrorCode, ErrorCodes, TslvsError } from '../errors.js';

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 */
  server: string;
  token?: string | null;
}

export class ApiClient {
  readonly server: string;
  readonly #token: string | null;

  constructor(opts: ClientOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.#token = opts.token ?? null;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new TslvsError(
        ErrorCodes.UNAVAILABLE,
        `cannot reach the tslvs daemon at ${this.server} (${cause})`,
        { server: this.server },
      );
    }
    const text = await res.text();
    let json: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) json = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
        ?.error;
      throw new TslvsError(
        (e?.code as ErrorCode) ?? ErrorCodes.UNAVAILABLE,
        e?.message ?? `HTTP ${res.status}`,
        { status: res.status, ...(e?.details ?? {}) },
      );
    }
    return json as T;
  }
}

/** Where to find the daemon: --server, else the config file's admin address, else the default. */
export function serverUrl(listen: { host: string; port: number } | null, explicit?: string): string {
  if (explicit) return /^https?:\/\//.test(explicit) ? explicit : `http://${explicit}`;
  if (!listen) return 'http://127.0.0.1:9090';
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${listen.port}`;
}
