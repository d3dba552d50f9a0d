/**
 * `kind` -> checker factory. A factory validates what it compiles (regexes, argv) and throws a
 * `TslvsError` (INVALID_ARGUMENT) for a spec it cannot run; the checkers it returns never throw.
 */
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker } from './checker.js';
import { createDnsChecker } from './dns.js';
import { createExecChecker } from './exec.js';
import { createHttpChecker } from './http.js';
import { createNoneChecker } from './none.js';
import { createSmtpChecker } from './smtp.js';
import type { HealthCheckSpec, HealthKind } from './spec.js';
import { HEALTH_KINDS } from './spec.js';
import { createTcpChecker } from './tcp.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';
import { createUdpChecker } from './udp.js';

export type CheckerFactory<K extends HealthKind = HealthKind> = (
  spec: Extract<HealthCheckSpec, { kind: K }>,
  timers: Timers,
) => Checker;

export const CHECKER_FACTORIES: { readonly [K in HealthKind]: CheckerFactory<K> } = Object.freeze({
  tcp: createTcpChecker,
  http: createHttpChecker,
  https: createHttpChecker,
  udp: createUdpChecker,
  dns: createDnsChecker,
  smtp: createSmtpChecker,
  exec: createExecChecker,
  none: createNoneChecker,
});

export function createChecker(spec: HealthCheckSpec, timers: Timers = realTimers): Checker {
  const kind = (spec as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(HEALTH_KINDS as readonly string[]).includes(kind)) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `unknown health check kind '${String(kind)}'`, {
      field: 'kind',
      value: kind,
      allowed: HEALTH_KINDS,
    });
  }
  assertValidTiming(spec);
  const factory = CHECKER_FACTORIES[spec.kind] as CheckerFactory;
  return factory(spec, timers);
}

const TIMING_RULES: ReadonlyArray<[keyof HealthCheckSpec & string, number]> = [
  ['intervalMs', 1],
  ['timeoutMs', 1],
  ['rise', 1],
  ['fall', 1],
];

/** Interval, timeout, rise and fall must be positive integers; the port override a valid port. */
export function assertValidTiming(spec: HealthCheckSpec): void {
  for (const [field, min] of TIMING_RULES) {
    const v = spec[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new TslvsError(
        ErrorCodes.INVALID_ARGUMENT,
        `health check ${field} must be an integer >= ${min}`,
        {
          field,
          value: v,
        },
      );
    }
  }
  if (spec.port !== undefined && (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'health check port must be in 1-65535', {
      field: 'port',
      value: spec.port,
    });
  }
}
