/**
 * A printable view of a normalized `Config` (`tslvs check --json`, the admin API): addresses as
 * text ("10.0.0.1:80", "[::1]:80"), secrets replaced by "<redacted>", everything else as is.
 */
import { type Endpoint, formatEndpoint, formatIp, type IpAddress } from '../../engine/addr.js';
import type { Config } from './types.js';

const SECRET_KEYS = new Set(['token', 'key', 'authPass']);

function isIp(v: object): v is IpAddress {
  return 'family' in v && 'words' in v && Array.isArray((v as IpAddress).words);
}

function isEndpoint(v: object): v is Endpoint {
  return 'addr' in v && 'port' in v && typeof (v as Endpoint).addr === 'object' && isIp((v as Endpoint).addr);
}

export function configToJson(config: Config, opts: { redactSecrets?: boolean } = {}): unknown {
  const redact = opts.redactSecrets ?? true;
  const walk = (v: unknown, key: string | null): unknown => {
    if (redact && key !== null && SECRET_KEYS.has(key) && typeof v === 'string') return '<redacted>';
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, null));
    if (isEndpoint(v)) return formatEndpoint(v);
    if (isIp(v)) return formatIp(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
    return out;
  };
  return walk(config, null);
}
