/**
 * The shape of `POST /v1/batch` actions (their contents are checked later, as config): each names an
 * op of edit.ts's Action and carries what the matching route would take.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { RawObject } from '../config/raw.js';
import type { Action } from './edit.js';

export const ACTION_OPS = [
  'addService',
  'putService',
  'editService',
  'deleteService',
  'clearServices',
  'addRealServer',
  'putRealServer',
  'editRealServer',
  'deleteRealServer',
  'setTimeouts',
] as const;

function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string, details: Record<string, unknown> = {}): TslvsError {
  return new TslvsError(ErrorCodes.INVALID_ARGUMENT, message, details);
}

const TIMEOUT_KEYS = ['tcp', 'tcpFin', 'udp'] as const;

function need<T>(cond: boolean, value: T, message: string, field: string): T {
  if (!cond) throw invalid(message, { field });
  return value;
}

/** Checks the shape of one batch action (its contents are checked later, as config). */
export function parseAction(v: unknown, index: number): Action {
  const at = `actions[${index}]`;
  if (!isObject(v)) throw invalid(`${at} must be an object with an 'op'`, { field: at });
  const op = v.op;
  if (typeof op !== 'string' || !(ACTION_OPS as readonly string[]).includes(op))
    throw invalid(`${at}.op must be one of ${ACTION_OPS.join(', ')}`, { field: `${at}.op` });
  const id = () =>
    need(
      typeof v.service === 'string',
      v.service as string,
      `${at}.service must be a service name or key`,
      `${at}.service`,
    );
  const rs = () =>
    need(
      typeof v.realServer === 'string',
      v.realServer as string,
      `${at}.realServer must be ip:port`,
      `${at}.realServer`,
    );
  const body = (k: string) =>
    need(isObject(v[k]), v[k] as RawObject, `${at}.${k} must be an object`, `${at}.${k}`);
  switch (op as Action['op']) {
    case 'addService':
      return { op: 'addService', service: body('body') };
    case 'putService':
      return { op: 'putService', id: id(), service: body('body') };
    case 'editService':
      return { op: 'editService', id: id(), changes: body('changes') };
    case 'deleteService':
      return { op: 'deleteService', id: id() };
    case 'clearServices':
      return { op: 'clearServices' };
    case 'addRealServer':
      return { op: 'addRealServer', id: id(), realServer: body('body') };
    case 'putRealServer':
      return { op: 'putRealServer', id: id(), rs: rs(), realServer: body('body') };
    case 'editRealServer':
      return { op: 'editRealServer', id: id(), rs: rs(), changes: body('changes') };
    case 'deleteRealServer':
      return { op: 'deleteRealServer', id: id(), rs: rs() };
    case 'setTimeouts':
      return { op: 'setTimeouts', ...parseTimeouts(v, at) };
  }
}

/** `{tcp, tcpFin, udp}` in whole seconds, 0 or absent = unchanged (ipvsadm --set). */
export function parseTimeouts(v: RawObject, at = 'body'): { tcp?: number; tcpFin?: number; udp?: number } {
  const out: { tcp?: number; tcpFin?: number; udp?: number } = {};
  for (const k of TIMEOUT_KEYS) {
    const x = v[k];
    if (x === undefined) continue;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0)
      throw invalid(`${at}.${k} must be a whole number of seconds >= 0 (got ${JSON.stringify(x)})`, {
        field: `${at}.${k}`,
      });
    out[k] = x;
  }
  return out;
}
