/**
 * What the admin API's handlers need from the daemon, and the helpers every route module shares
 * (request bodies, looking services and real servers up in the running config).
 */
import type { DataPlane } from '../../dataplane/types.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { HaController } from '../../ha/controller.js';
import { realServerKey as configRsKey, serviceKey } from '../config/diff.js';
import type { RawObject } from '../config/raw.js';
import type { Config, RealServerConfig, ServiceConfig } from '../config/types.js';
import type { ApplyResult, Director } from '../director/director.js';
import type { EngineHost } from '../engine-host.js';
import { realServerKey, serviceKeyFromId } from './edit.js';
import type { ApiRequest } from './router.js';

export interface ApiHost {
  readonly director: Director;
  readonly host: EngineHost;
  readonly dataplane: DataPlane;
  readonly configFile: string | null;
  readonly startedAt: number;
  reload(opts?: { dryRun?: boolean }): Promise<ApplyResult>;
  /** The VRRP controller, when the config has instances. */
  readonly ha: HaController | null;
}

export const VERSION = '0.1.0';

/** The request's JSON object body; anything else is a 400 naming what was expected. */
export function jsonObject(req: ApiRequest, what: string): RawObject {
  const v = req.json;
  if (req.body.trim() === '')
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `a JSON ${what} body is required`);
  if (v === undefined)
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `send ${what} as JSON (Content-Type: application/json)`,
    );
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `the body must be a JSON object (${what})`);
  return v as RawObject;
}

export function findConfigService(config: Config, id: string): ServiceConfig | undefined {
  const key = serviceKeyFromId(id);
  return config.services.find((s) => (key ? serviceKey(s) === key : s.name === id));
}

export function requireConfigService(config: Config, id: string): ServiceConfig {
  const s = findConfigService(config, id);
  if (!s) throw new TslvsError(ErrorCodes.SERVICE_NOT_FOUND, `service ${id} does not exist`, { service: id });
  return s;
}

export function requireConfigRealServer(s: ServiceConfig, id: string, rs: string): RealServerConfig {
  const key = realServerKey(rs, s.address.port);
  const found = s.realServers.find((r) => configRsKey(r) === key);
  if (!found)
    throw new TslvsError(ErrorCodes.DEST_NOT_FOUND, `real server ${key} of service ${id} does not exist`, {
      service: id,
      realServer: key,
    });
  return found;
}

/** A bounded non-negative integer query parameter. */
export function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `${name} must be an integer from ${min} to ${max} (got '${v}')`,
      {
        field: name,
      },
    );
  return n;
}
