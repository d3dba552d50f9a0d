/**
 * Schedulers registered by name, as IPVS's `register_ip_vs_scheduler`.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { dh } from './dh.js';
import { fo } from './fo.js';
import { lblc } from './lblc.js';
import { lblcr } from './lblcr.js';
import { lc } from './lc.js';
import { mh } from './mh.js';
import type { SchedulerName } from './names.js';
import { nq } from './nq.js';
import { ovf } from './ovf.js';
import { rr } from './rr.js';
import type { Scheduler } from './scheduler.js';
import { sed } from './sed.js';
import { sh } from './sh.js';
import { twos } from './twos.js';
import { wlc } from './wlc.js';
import { wrr } from './wrr.js';

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

for (const s of [rr, wrr, lc, wlc, sed, nq, sh, dh, mh, lblc, lblcr, fo, ovf, twos]) registerScheduler(s);
