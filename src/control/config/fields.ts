/**
 * Field types shared by the config schema: each takes the raw YAML value, checks it and converts it to
 * what the rest of the program uses (durations in ms, parsed addresses, argv arrays). They report
 * problems as zod issues with a message written for the person editing the file.
 */
import { z } from 'zod';
import { type Endpoint, type IpAddress, parseEndpoint, tryParseIp } from '../../engine/addr.js';
import { isTslvsError } from '../../errors.js';
import { formatDuration, parseDuration } from './duration.js';

/** A short rendering of a bad value for "(got ...)" in messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

type Ctx = z.core.$RefinementCtx;

function fail(ctx: Ctx, value: unknown, message: string, path: (string | number)[] = []): never {
  const text = value === undefined ? 'is required' : `${message} (got ${describeValue(value)})`;
  ctx.issues.push({ code: 'custom', message: text, input: value, path });
  return z.NEVER;
}

function looksLikeUnquotedIpv6(v: unknown): boolean {
  return Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0].includes(':');
}

export interface DurationBounds {
  minMs?: number;
  maxMs?: number;
  /** Resolution of the wire field it ends up in (VRRPv3 advertisements count centiseconds). */
  stepMs?: number;
}

export function duration(bounds: DurationBounds = {}) {
  return z.unknown().transform((v, ctx): number => {
    const r = parseDuration(v);
    if ('error' in r) return fail(ctx, v, r.error);
    const { minMs = 0, maxMs, stepMs } = bounds;
    if (r.ms < minMs) return fail(ctx, v, `must be at least ${formatDuration(minMs)}`);
    if (maxMs !== undefined && r.ms > maxMs) return fail(ctx, v, `must be at most ${formatDuration(maxMs)}`);
    if (stepMs !== undefined && r.ms % stepMs !== 0)
      return fail(ctx, v, `must be a multiple of ${formatDuration(stepMs)}`);
    return r.ms;
  });
}

/** 'a.b.c.d:port' or '"[v6]:port"'. */
export function endpoint() {
  return z.unknown().transform((v, ctx): Endpoint => {
    if (looksLikeUnquotedIpv6(v))
      return fail(ctx, v, 'IPv6 endpoints must be quoted in YAML, e.g. "[::1]:8080"');
    if (typeof v !== 'string') return fail(ctx, v, 'must be an address:port string');
    try {
      return parseEndpoint(v.trim());
    } catch (err) {
      if (isTslvsError(err)) return fail(ctx, v, `is not a valid address:port: ${err.message}`);
      throw err;
    }
  });
}

/** An endpoint whose port may be left out (a real server in DR mode answers on the service port). */
export interface PartialEndpoint {
  addr: IpAddress;
  port: number | null;
}

export function endpointPortOptional() {
  return z.unknown().transform((v, ctx): PartialEndpoint => {
    if (looksLikeUnquotedIpv6(v))
      return fail(ctx, v, 'IPv6 endpoints must be quoted in YAML, e.g. "[::1]:8080"');
    if (typeof v !== 'string') return fail(ctx, v, 'must be an address or address:port string');
    const s = v.trim();
    const bare = tryParseIp(s);
    if (bare) return { addr: bare, port: null };
    try {
      return parseEndpoint(s);
    } catch (err) {
      if (isTslvsError(err)) return fail(ctx, v, `is not a valid address[:port]: ${err.message}`);
      throw err;
    }
  });
}

/** A plain IP address (no prefix: the field names one host). */
export function ip() {
  return z.unknown().transform((v, ctx): IpAddress => {
    if (typeof v !== 'string') return fail(ctx, v, 'must be an IP address string');
    if (v.includes('/')) return fail(ctx, v, 'must be a single address without a /prefix');
    return tryParseIp(v.trim()) ?? fail(ctx, v, 'is not an IPv4 or IPv6 address');
  });
}

export interface IpPrefix {
  addr: IpAddress;
  prefixLength: number | null;
}

/** 'addr' or 'addr/len'. */
export function ipPrefix() {
  return z.string().transform((v, ctx): IpPrefix => {
    const [host = '', len, extra] = v.trim().split('/');
    const addr = tryParseIp(host);
    if (!addr || extra !== undefined) return fail(ctx, v, 'is not an IP address or address/prefix');
    if (len === undefined) return { addr, prefixLength: null };
    const n = /^\d{1,3}$/.test(len) ? Number(len) : -1;
    if (n < 0 || n > (addr.family === 4 ? 32 : 128))
      return fail(ctx, v, `has an invalid IPv${addr.family} prefix`);
    return { addr, prefixLength: n };
  });
}

/** Kept raw: whether it is valid depends on the service's address family (checked in normalize). */
export function netmask() {
  return z.unknown().transform((v, ctx): string | number => {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return v;
    return fail(ctx, v, 'must be a dotted IPv4 netmask or a prefix length');
  });
}

/** argv for a program run without a shell. A string is refused rather than split: no shell semantics. */
export function argv() {
  return z.unknown().transform((v, ctx): string[] => {
    if (typeof v === 'string') {
      return fail(
        ctx,
        v,
        'must be a list of arguments, e.g. ["/usr/local/bin/check", "{address}"]; commands run without a shell, so a single string is not split',
      );
    }
    if (!Array.isArray(v) || v.length === 0) return fail(ctx, v, 'must be a non-empty list of arguments');
    for (const a of v) {
      if (typeof a !== 'string' && typeof a !== 'number')
        return fail(ctx, a, 'every argument must be a string');
    }
    const out = v.map(String);
    if (out[0] === '') return fail(ctx, v, 'the program name must not be empty');
    return out;
  });
}

/**
 * HTTP status codes: 200, [200, 204], "200-299" or a list mixing both (keepalived's status_code takes
 * ranges too). Expanded to a sorted list without duplicates.
 */
export function statusCodes() {
  return z.unknown().transform((v, ctx): number[] => {
    const out = new Set<number>();
    const items = Array.isArray(v) ? v : [v];
    if (items.length === 0) return fail(ctx, v, 'must list at least one status code');
    for (const [i, item] of items.entries()) {
      const m = typeof item === 'string' ? /^\s*(\d{3})\s*-\s*(\d{3})\s*$/.exec(item) : null;
      const [lo, hi] = m ? [Number(m[1]), Number(m[2])] : [item, item];
      if (
        !Number.isInteger(lo) ||
        !Number.isInteger(hi) ||
        (lo as number) < 100 ||
        (hi as number) > 599 ||
        (lo as number) > (hi as number)
      ) {
        const path = Array.isArray(v) ? [i] : [];
        return fail(ctx, item, 'must be HTTP status codes (100-599) or ranges like "200-299"', path);
      }
      for (let c = lo as number; c <= (hi as number); c++) out.add(c);
    }
    return [...out].sort((a, b) => a - b);
  });
}

/** A regular expression source; compiled here so a typo is reported at load time, not at check time. */
export function regex() {
  return z.string().superRefine((s, ctx) => {
    try {
      new RegExp(s);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid regular expression: ${(err as Error).message}`,
      });
    }
  });
}

export function int(min: number, max: number) {
  const range = `must be an integer from ${min} to ${max}`;
  return z
    .number({
      error: (iss) =>
        iss.input === undefined ? 'is required' : `${range} (got ${describeValue(iss.input)})`,
    })
    .int({ error: (iss) => `${range} (got ${describeValue(iss.input)})` })
    .min(min, { error: (iss) => `must be an integer >= ${min} (got ${describeValue(iss.input)})` })
    .max(max, { error: (iss) => `must be an integer <= ${max} (got ${describeValue(iss.input)})` });
}

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no whitespace. */
export function ifname() {
  return z.string().regex(/^[^\s/:]{1,15}$/, {
    error: (iss) =>
      `must be a network interface name of 1-15 characters without / : or spaces (got ${describeValue(iss.input)})`,
  });
}

/** Service and VRRP instance names: shown in logs, metrics labels and CLI arguments. */
export function label() {
  return z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
    error: (iss) =>
      `must be 1-63 letters, digits, _ . - starting with a letter or digit (got ${describeValue(iss.input)})`,
  });
}
