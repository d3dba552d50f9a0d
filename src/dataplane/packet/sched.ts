/**
 * Placement of the calling thread: CPU affinity and scheduling priority. Both apply to one thread only
 * (pid 0 / the thread's own tid), so a packet worker can own a core without moving the rest of the process.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { libc, syscallError } from './libc.js';

const SCHED_FIFO = 1;
const PRIO_PROCESS = 0;

export interface ThreadPriority {
  /** SCHED_FIFO priority 1-99: runs ahead of every normal task (the kernel still keeps 5% for them). */
  realtime?: number;
  /** Nice value -20..19 under the normal scheduler (ignored when `realtime` is set). */
  nice?: number;
}

/** Pins the calling thread to one CPU. */
export function pinThreadToCpu(cpu: number): void {
  const mask = Buffer.alloc(128);
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= mask.length * 8) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `cpu ${cpu} is not a valid CPU number`, { cpu });
  }
  mask[cpu >> 3] = 1 << (cpu & 7);
  const c = libc();
  if (c.sched_setaffinity(0, mask.length, mask) < 0)
    throw syscallError('sched_setaffinity', c.errno(), { cpu });
}

/** Sets the calling thread's scheduling priority. */
export function setThreadPriority(p: ThreadPriority): void {
  const c = libc();
  if (p.realtime !== undefined) {
    if (!Number.isInteger(p.realtime) || p.realtime < 1 || p.realtime > 99) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `realtime priority ${p.realtime} must be 1-99`, {
        priority: p.realtime,
      });
    }
    const param = Buffer.alloc(4);
    param.writeInt32LE(p.realtime, 0);
    if (c.sched_setscheduler(0, SCHED_FIFO, param) < 0) {
      throw syscallError('sched_setscheduler(SCHED_FIFO)', c.errno(), { priority: p.realtime });
    }
    return;
  }
  if (p.nice !== undefined) {
    if (!Number.isInteger(p.nice) || p.nice < -20 || p.nice > 19) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `nice ${p.nice} must be -20..19`, { nice: p.nice });
    }
    if (c.setpriority(PRIO_PROCESS, c.gettid(), p.nice) < 0)
      throw syscallError('setpriority', c.errno(), { nice: p.nice });
  }
}
