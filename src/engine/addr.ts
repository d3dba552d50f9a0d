/**
 * IP addresses and endpoints for the control plane and the engine. An address is its family plus four
 * 32-bit words in network order read as unsigned integers (`ntohl`): IPv4 uses word 0 and leaves the rest
 * zero, so XOR-folding the words (as IPVS's sh/dh/mh hashes do for IPv6) gives the IPv4 address itself.
 * The hot path never builds these objects; it copies the words into typed arrays.
 */
import { ErrorCodes, TslvsError } from '../errors.js';

export type Family = 4 | 6;

export interface IpAddress {
  readonly family: Family;
  readonly words: readonly [number, number, number, number];
}

export interface Endpoint {
  readonly addr: IpAddress;
  readonly port: number;
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): number | null {
  const m = V4_RE.exec(s);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part[0] === '0') return null; // no octal ambiguity
    const n = Number(part);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

function parseV6(s: string): [number, number, number, number] | null {
  if (s.length === 0 || s.length > 45) return null;
  let head = s;
  let tailV4: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tailV4 = parseV4(s.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!left || !right) return null;
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...left, ...new Array<number>(8 - total).fill(0), ...right];
  const words: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  if (tailV4 !== null) words[3] = tailV4;
  return words;
}

export function tryParseIp(s: string): IpAddress | null {
  const v4 = parseV4(s);
  if (v4 !== null) return { family: 4, words: [v4, 0, 0, 0] };
  const v6 = parseV6(s);
  return v6 ? { family: 6, words: v6 } : null;
}

/**
 * Dotted-quad IPv4 text to its u32 without allocating (the socket layer's per-datagram path), or -1 when
 * `s` is not exactly that (IPv6, leading zeros, out of range): the caller then falls back to parseIp.
 */
export function parseIpv4Word(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let word = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      word = word * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // no octal ambiguity
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return (word * 256 + part) >>> 0;
}

export function parseIp(s: string): IpAddress {
  const a = tryParseIp(s);
  if (!a) throw new TslvsError(ErrorCodes.ADDRESS, `'${s}' is not an IPv4 or IPv6 address`, { value: s });
  return a;
}

export function ipv4(word: number): IpAddress {
  return { family: 4, words: [word >>> 0, 0, 0, 0] };
}

/** RFC 5952 text form for IPv6 (longest zero run compressed, lower case). */
export function formatIp(a: IpAddress): string {
  if (a.family === 4) {
    const w = a.words[0];
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  const g: number[] = [];
  for (const w of a.words) g.push(w >>> 16, w & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  return (
    a.family === b.family &&
    a.words[0] === b.words[0] &&
    a.words[1] === b.words[1] &&
    a.words[2] === b.words[2] &&
    a.words[3] === b.words[3]
  );
}

/** Writes the address in network byte order (4 or 16 bytes) at `off`. */
export function ipToBytes(a: IpAddress, out: Uint8Array, off = 0): number {
  const n = a.family === 4 ? 1 : 4;
  for (let i = 0; i < n; i++) {
    const w = a.words[i]!;
    out[off + 4 * i] = w >>> 24;
    out[off + 4 * i + 1] = (w >>> 16) & 255;
    out[off + 4 * i + 2] = (w >>> 8) & 255;
    out[off + 4 * i + 3] = w & 255;
  }
  return 4 * n;
}

export function ipFromBytes(buf: Uint8Array, off: number, family: Family): IpAddress {
  const word = (i: number) =>
    ((buf[off + 4 * i]! << 24) |
      (buf[off + 4 * i + 1]! << 16) |
      (buf[off + 4 * i + 2]! << 8) |
      buf[off + 4 * i + 3]!) >>>
    0;
  return family === 4 ? ipv4(word(0)) : { family: 6, words: [word(0), word(1), word(2), word(3)] };
}

/** The address with every bit past `prefixLen` cleared (persistence granularity, IPVS `-M`). */
export function maskIp(a: IpAddress, prefixLen: number): IpAddress {
  const bits = a.family === 4 ? 32 : 128;
  const len = Math.max(0, Math.min(bits, prefixLen));
  const words = [0, 0, 0, 0] as [number, number, number, number];
  for (let i = 0; i < bits / 32; i++) {
    const keep = Math.max(0, Math.min(32, len - 32 * i));
    words[i] = keep === 0 ? 0 : (a.words[i]! & (0xffffffff << (32 - keep))) >>> 0;
  }
  return { family: a.family, words };
}

/** '255.255.255.0' -> 24; rejects non-contiguous masks. A bare number is taken as a prefix length. */
export function parseNetmask(s: string | number, family: Family): number {
  const bits = family === 4 ? 32 : 128;
  const bad = () =>
    new TslvsError(ErrorCodes.ADDRESS, `'${s}' is not a valid IPv${family} netmask or prefix length`, {
      value: s,
    });
  if (typeof s === 'number' || /^\/?\d{1,3}$/.test(s)) {
    const n = typeof s === 'number' ? s : Number(s.replace('/', ''));
    if (!Number.isInteger(n) || n < 0 || n > bits) throw bad();
    return n;
  }
  const a = tryParseIp(s);
  if (a?.family !== 4 || family !== 4) throw bad();
  const m = a.words[0];
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) throw bad(); // ones must be contiguous from the top
  return 32 - Math.log2(inv + 1);
}

export function formatNetmask(prefixLen: number, family: Family): string {
  if (family === 6) return String(prefixLen);
  const m = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return formatIp(ipv4(m));
}

/** 'a.b.c.d:port' or '[v6]:port'. `defaultPort` is used when the port is omitted (and allowed). */
export function parseEndpoint(
  s: string,
  opts: { defaultPort?: number; allowZeroPort?: boolean } = {},
): Endpoint {
  const bad = (why: string) => new TslvsError(ErrorCodes.ADDRESS, `'${s}': ${why}`, { value: s });
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw bad('missing ] after IPv6 address');
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad('expected :port after ]');
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colons = s.split(':').length - 1;
    if (colons > 1) throw bad('IPv6 endpoints are written [addr]:port');
    const i = s.lastIndexOf(':');
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? undefined : s.slice(i + 1);
  }
  const addr = tryParseIp(host);
  if (!addr) throw bad(`'${host}' is not an IP address`);
  let port: number;
  if (portText === undefined) {
    if (opts.defaultPort === undefined) throw bad('missing :port');
    port = opts.defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`'${portText}' is not a port number`);
    port = Number(portText);
  }
  if (port > 65535 || (port === 0 && !opts.allowZeroPort)) throw bad(`port ${port} is out of range 1-65535`);
  return { addr, port };
}

export function formatEndpoint(e: Endpoint): string {
  const host = formatIp(e.addr);
  return e.addr.family === 6 ? `[${host}]:${e.port}` : `${host}:${e.port}`;
}
