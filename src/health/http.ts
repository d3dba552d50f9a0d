/**
 * HTTP and HTTPS checks (keepalived HTTP_GET / SSL_GET): one request on a fresh connection (no keep-alive
 * agent, `Connection: close`), the status must be in the expected list and, when a body regex is given,
 * the first 64 KiB of the body must match it. TLS certificates are not verified unless `tlsVerify`,
 * as keepalived's SSL_GET does not verify them either.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { formatIp } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker, HealthTarget, Outcome } from './checker.js';
import { checkPort, hostLiteral, runWithDeadline, settleOnce, truncate } from './checker.js';
import type { HttpSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

/** How much of the body the regex sees; the rest is not read. */
export const BODY_LIMIT = 64 * 1024;

export function createHttpChecker(spec: HttpSpec, timers: Timers = realTimers): Checker {
  const bodyRe = compileBodyRegex(spec.bodyRegex);
  return {
    check: (target, signal) =>
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) => httpCheck(spec, bodyRe, target, inner)),
  };
}

function compileBodyRegex(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `health check bodyRegex '${source}' is not a valid regex`,
      {
        field: 'bodyRegex',
        value: source,
      },
      { cause: err },
    );
  }
}

/** The Host header: the spec's, else the RS address with the port unless it is the scheme's default. */
export function defaultHostHeader(spec: HttpSpec, target: HealthTarget): string {
  if (spec.host !== undefined) return spec.host;
  const port = checkPort(target, spec.port);
  const defaultPort = spec.kind === 'https' ? 443 : 80;
  return port === defaultPort ? hostLiteral(target) : `${hostLiteral(target)}:${port}`;
}

/** SNI must be a DNS name (RFC 6066 forbids IP literals), so an address-like host sends none. */
function serverName(spec: HttpSpec): string | undefined {
  const name = spec.sni ?? spec.host?.replace(/:\d+$/, '');
  if (name === undefined || name === '' || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return undefined;
  return name;
}

function requestOptions(spec: HttpSpec, target: HealthTarget): RequestOptions {
  const options: RequestOptions & { rejectUnauthorized?: boolean; servername?: string } = {
    host: formatIp(target.address),
    family: target.address.family,
    port: checkPort(target, spec.port),
    method: spec.method,
    path: spec.path,
    agent: false,
    headers: {
      Host: defaultHostHeader(spec, target),
      'User-Agent': 'tslvs-health',
      Connection: 'close',
    },
  };
  if (spec.kind === 'https') {
    options.rejectUnauthorized = spec.tlsVerify;
    const sni = serverName(spec);
    if (sni !== undefined) options.servername = sni;
  }
  return options;
}

function httpCheck(
  spec: HttpSpec,
  bodyRe: RegExp | undefined,
  target: HealthTarget,
  signal: AbortSignal,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    const once = settleOnce<Outcome>(resolve, reject, () => {
      signal.removeEventListener('abort', onAbort);
      req.destroy();
    });
    const onAbort = () => once.fail(signal.reason);
    try {
      req = (spec.kind === 'https' ? httpsRequest : httpRequest)(requestOptions(spec, target));
    } catch (err) {
      // Invalid method or path characters are rejected synchronously by node:http.
      reject(err);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => once.fail(err));
    req.on('response', (res) => onResponse(res, spec, bodyRe, once));
    req.end();
  });
}

function onResponse(
  res: IncomingMessage,
  spec: HttpSpec,
  bodyRe: RegExp | undefined,
  once: { ok(v: Outcome): void; fail(e: unknown): void },
): void {
  res.on('error', (err) => once.fail(err));
  const status = res.statusCode ?? 0;
  if (!spec.expectStatus.includes(status)) {
    once.ok({ ok: false, reason: `http status ${status} not in [${spec.expectStatus.join(',')}]` });
    return;
  }
  if (!bodyRe) {
    once.ok({ ok: true, reason: `http status ${status}` });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const judge = () => {
    const body = Buffer.concat(chunks, Math.min(size, BODY_LIMIT)).toString('utf8');
    if (bodyRe.test(body)) once.ok({ ok: true, reason: `http status ${status}, body matched ${bodyRe}` });
    else once.ok({ ok: false, reason: `body did not match ${bodyRe}`, detail: truncate(body, 512) });
  };
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BODY_LIMIT) judge();
  });
  res.on('end', judge);
  res.on('close', () => {
    if (!res.complete) once.fail(new Error('connection closed before the body ended'));
  });
}
