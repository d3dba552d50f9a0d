/**
 * Every change the admin API makes, as an action on the raw config (the plain data a config file holds).
 * The route handlers and `POST /v1/batch` build actions; `applyActions` runs them on a copy of the
 * running config in order, then the caller validates the result like a file and lets the director apply
 * the difference. So a change is checked exactly as a reload would check it, is atomic (one engine
 * batch), and repeating it changes nothing (the second diff is empty).
 *
 * Services are named by name or by key (`tcp/10.0.0.1:80`, also `tcp:10.0.0.1:80`); real servers by
 * `ip:port` (`[v6]:port`), or a bare address meaning the service's port.
 */
import { formatEndpoint, parseEndpoint, tryParseIp } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { RawObject } from '../config/raw.js';

export type Action =
  | { op: 'addService'; service: RawObject }
  | { op: 'putService'; id: string; service: RawObject }
  | { op: 'editService'; id: string; changes: RawObject }
  | { op: 'deleteService'; id: string }
  | { op: 'clearServices' }
  | { op: 'addRealServer'; id: string; realServer: RawObject }
  | { op: 'putRealServer'; id: string; rs: string; realServer: RawObject }
  | { op: 'editRealServer'; id: string; rs: string; changes: RawObject }
  | { op: 'deleteRealServer'; id: string; rs: string }
  | { op: 'setTimeouts'; tcp?: number; tcpFin?: number; udp?: number };

/** Where an action's body landed in the raw config, so validation errors can name the body's fields. */
export type RawPath = (string | number)[];

function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string, details: Record<string, unknown> = {}): TslvsError {
  return new TslvsError(ErrorCodes.INVALID_ARGUMENT, message, details);
}

/** `tcp/10.0.0.1:80` for the key forms of a service id, null for a name. */
export function serviceKeyFromId(id: string): string | null {
  const m = /^(tcp|udp)[:/](.+)$/i.exec(id);
  if (!m) return null;
  try {
    return `${m[1]!.toLowerCase()}/${formatEndpoint(parseEndpoint(m[2]!))}`;
  } catch {
    throw new TslvsError(ErrorCodes.ADDRESS, `'${id}' is not a service name or protocol:address:port`, {
      id,
    });
  }
}

function rawServiceKey(s: RawObject): string | null {
  const protocol = typeof s.protocol === 'string' ? s.protocol : 'tcp';
  if (typeof s.address !== 'string') return null;
  try {
    return `${protocol}/${formatEndpoint(parseEndpoint(s.address.trim()))}`;
  } catch {
    return null;
  }
}

function servicePort(s: RawObject): number {
  try {
    return parseEndpoint(String(s.address)).port;
  } catch {
    return 0;
  }
}

/** Canonical `ip:port` of a real server id or address; a bare address takes the service's port. */
export function realServerKey(text: string, defaultPort: number): string {
  const t = text.trim();
  const bare = tryParseIp(t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t);
  if (bare) return formatEndpoint({ addr: bare, port: defaultPort });
  return formatEndpoint(parseEndpoint(t));
}

function rawRealServerKey(rs: RawObject, port: number): string | null {
  if (typeof rs.address !== 'string') return null;
  try {
    return realServerKey(rs.address, port);
  } catch {
    return null;
  }
}

function services(raw: RawObject): RawObject[] {
  if (!Array.isArray(raw.services)) raw.services = [];
  return raw.services as RawObject[];
}

/** Index of the service `id` names in `raw`, or -1. */
export function findService(raw: RawObject, id: string): number {
  const key = serviceKeyFromId(id);
  return services(raw).findIndex((s) => (key ? rawServiceKey(s) === key : s.name === id));
}

function requireService(raw: RawObject, id: string): number {
  const i = findService(raw, id);
  if (i < 0)
    throw new TslvsError(ErrorCodes.SERVICE_NOT_FOUND, `service ${id} does not exist`, { service: id });
  return i;
}

function realServers(s: RawObject): RawObject[] {
  if (!Array.isArray(s.realServers)) s.realServers = [];
  return s.realServers as RawObject[];
}

function findRealServer(s: RawObject, rs: string): number {
  const port = servicePort(s);
  const key = realServerKey(rs, port);
  return realServers(s).findIndex((r) => rawRealServerKey(r, port) === key);
}

function requireRealServer(s: RawObject, id: string, rs: string): number {
  const j = findRealServer(s, rs);
  if (j < 0)
    throw new TslvsError(ErrorCodes.DEST_NOT_FOUND, `real server ${rs} of service ${id} does not exist`, {
      service: id,
      realServer: rs,
    });
  return j;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * RFC 7396 JSON merge patch: null removes a key (back to its default), objects merge, the rest replaces.
 * A scheduler written as a bare name is widened to `{ name }` first, so `{scheduler: {flags: [...]}}`
 * keeps the name.
 */
export function mergePatch(target: RawObject, patch: RawObject): RawObject {
  const out = clone(target);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete out[k];
      continue;
    }
    let cur = out[k];
    if (k === 'scheduler' && typeof cur === 'string') cur = { name: cur };
    out[k] = isObject(v) && isObject(cur) ? mergePatch(cur, v) : clone(v);
  }
  return out;
}

const SERVICE_IDENTITY = ['protocol', 'address'];

function checkServiceKeyMatches(id: string, existing: RawObject | null, body: RawObject): void {
  const fromId = serviceKeyFromId(id);
  const bodyKey = rawServiceKey({ protocol: body.protocol, address: body.address });
  const want = existing ? rawServiceKey(existing) : fromId;
  if (body.address !== undefined && bodyKey && want && bodyKey !== want) {
    throw invalid(`the body describes service ${bodyKey}, not ${want}: delete and add to change an address`, {
      field: 'address',
    });
  }
  if (!existing && !fromId && body.name !== undefined && body.name !== id) {
    throw invalid(`the body names the service '${String(body.name)}', the path '${id}'`, { field: 'name' });
  }
}

function addService(raw: RawObject, body: RawObject): RawPath {
  const list = services(raw);
  const key = rawServiceKey(body);
  const clash = list.find((s) => (key !== null && rawServiceKey(s) === key) || s.name === body.name);
  if (clash) {
    const what =
      key !== null && rawServiceKey(clash) === key
        ? `service ${key}`
        : `a service named '${String(body.name)}'`;
    throw new TslvsError(ErrorCodes.SERVICE_EXISTS, `${what} already exists`, {
      service: clash.name,
    });
  }
  list.push(clone({ realServers: [], ...body }));
  return ['services', list.length - 1];
}

function putService(raw: RawObject, id: string, body: RawObject): RawPath {
  const list = services(raw);
  const i = findService(raw, id);
  checkServiceKeyMatches(id, i >= 0 ? list[i]! : null, body);
  const fromId = serviceKeyFromId(id);
  const defaults: RawObject = {};
  if (i >= 0) {
    for (const k of [...SERVICE_IDENTITY, 'name']) if (list[i]![k] !== undefined) defaults[k] = list[i]![k];
  } else if (fromId) {
    const slash = fromId.indexOf('/');
    defaults.protocol = fromId.slice(0, slash);
    defaults.address = fromId.slice(slash + 1);
  } else defaults.name = id;
  const next = clone({ realServers: [], ...defaults, ...body });
  if (i >= 0) {
    list[i] = next;
    return ['services', i];
  }
  return addService(raw, next);
}

function editService(raw: RawObject, id: string, changes: RawObject): RawPath {
  for (const k of SERVICE_IDENTITY) {
    if (k in changes)
      throw invalid(`${k} identifies the service and cannot be edited: delete and add it instead`, {
        field: k,
      });
  }
  if ('realServers' in changes)
    throw invalid('edit real servers through /v1/services/{service}/realservers (or PUT the whole service)', {
      field: 'realServers',
    });
  const i = requireService(raw, id);
  const list = services(raw);
  list[i] = mergePatch(list[i]!, changes);
  return ['services', i];
}

function addRealServer(raw: RawObject, id: string, body: RawObject): RawPath {
  const i = requireService(raw, id);
  const s = services(raw)[i]!;
  if (typeof body.address === 'string' && findRealServer(s, body.address) >= 0) {
    throw new TslvsError(
      ErrorCodes.DEST_EXISTS,
      `real server ${realServerKey(body.address, servicePort(s))} already exists in service ${id}`,
      { service: id, realServer: body.address },
    );
  }
  const list = realServers(s);
  list.push(clone(body));
  return ['services', i, 'realServers', list.length - 1];
}

function putRealServer(raw: RawObject, id: string, rs: string, body: RawObject): RawPath {
  const i = requireService(raw, id);
  const s = services(raw)[i]!;
  const port = servicePort(s);
  const key = realServerKey(rs, port);
  if (typeof body.address === 'string' && rawRealServerKey(body, port) !== key) {
    throw invalid(`the body describes real server ${body.address}, the path ${key}`, { field: 'address' });
  }
  const next = clone({ address: key, ...body });
  const j = findRealServer(s, rs);
  const list = realServers(s);
  if (j >= 0) list[j] = next;
  else list.push(next);
  return ['services', i, 'realServers', j >= 0 ? j : list.length - 1];
}

function editRealServer(raw: RawObject, id: string, rs: string, changes: RawObject): RawPath {
  if ('address' in changes)
    throw invalid('address identifies the real server and cannot be edited: delete and add it instead', {
      field: 'address',
    });
  const i = requireService(raw, id);
  const s = services(raw)[i]!;
  const j = requireRealServer(s, id, rs);
  const list = realServers(s);
  list[j] = mergePatch(list[j]!, changes);
  return ['services', i, 'realServers', j];
}

const TIMEOUT_KEYS = ['tcp', 'tcpFin', 'udp'] as const;

function setTimeouts(raw: RawObject, t: { tcp?: number; tcpFin?: number; udp?: number }): RawPath {
  const cur = isObject(raw.timeouts) ? clone(raw.timeouts) : {};
  for (const k of TIMEOUT_KEYS) {
    const v = t[k];
    if (v === undefined || v === 0) continue; // ipvsadm --set: 0 leaves a timeout unchanged
    cur[k] = `${v}s`;
  }
  raw.timeouts = cur;
  return ['timeouts'];
}

/** Applies one action to `raw` in place; returns where its body landed. */
export function applyAction(raw: RawObject, a: Action): RawPath {
  switch (a.op) {
    case 'addService':
      return addService(raw, a.service);
    case 'putService':
      return putService(raw, a.id, a.service);
    case 'editService':
      return editService(raw, a.id, a.changes);
    case 'deleteService':
      services(raw).splice(requireService(raw, a.id), 1);
      return ['services'];
    case 'clearServices':
      raw.services = [];
      return ['services'];
    case 'addRealServer':
      return addRealServer(raw, a.id, a.realServer);
    case 'putRealServer':
      return putRealServer(raw, a.id, a.rs, a.realServer);
    case 'editRealServer':
      return editRealServer(raw, a.id, a.rs, a.changes);
    case 'deleteRealServer': {
      const s = services(raw)[requireService(raw, a.id)]!;
      realServers(s).splice(requireRealServer(s, a.id, a.rs), 1);
      return ['services'];
    }
    case 'setTimeouts':
      return setTimeouts(raw, a);
  }
}

/**
 * Runs actions in order on `raw`, which it changes (callers pass a fresh `configToRaw`); an error names
 * the failing action's index (batches).
 */
export function applyActions(
  raw: RawObject,
  actions: readonly Action[],
): { raw: RawObject; paths: RawPath[] } {
  const next = raw;
  const paths: RawPath[] = [];
  actions.forEach((a, index) => {
    try {
      paths.push(applyAction(next, a));
    } catch (err) {
      if (err instanceof TslvsError && actions.length > 1) {
        throw new TslvsError(err.code, `action ${index} (${a.op}): ${err.message}`, {
          ...err.details,
          action: index,
        });
      }
      throw err;
    }
  });
  return { raw: next, paths };
}
