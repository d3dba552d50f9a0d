/**
 * Schedulers registered by name, as IPVS's `register_ip_vs_scheduler`.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { SchedulerName } from './names.js';
import { rr } from './rr.js';
import type { Scheduler } from './scheduler.js';

const registry = new Map<string, Scheduler>();

export function registerScheduler(s: Scheduler): void {
  registry.set(s.name, s);
}

export function getScheduler(name: string): Scheduler {
  const s = registry.get(name);
  if (!s) {
    throw new TslvsError(
      ErrorCodes.SCHEDULER,
      `unknown scheduler '${name}' (known: ${[...registry.keys()].join(', ')})`,
      {
        value: name,
      },
    );
  }
  return s;
}

export function registeredSchedulers(): SchedulerName[] {
  return [...registry.keys()] as SchedulerName[];
}

for (const s of [rr]) registerScheduler(s);
