/** Messages and start-up data shared by PacketWorker (main thread) and worker-main (worker thread). */
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { LoopOptions } from './loop.js';
import type { PacketRingOptions } from './ring.js';
import type { RingGeometry } from './ring-geometry.js';
import type { ThreadPriority } from './sched.js';

export interface WorkerData {
  rings: PacketRingOptions[];
  handlerUrl: string;
  handlerOptions: unknown;
  netns?: string;
  cpu?: number;
  priority?: ThreadPriority;
  loop: LoopOptions;
  /** SharedArrayBuffer-backed: written by the worker, read by the main thread. */
  counters: Float64Array;
  /** SharedArrayBuffer-backed: [0] = stop requested. */
  control: Int32Array;
  /** eventfd owned (created and closed) by the main thread; -1 for none. */
  wakeFd: number;
}

export interface RingInfo {
  ifname: string;
  ifindex: number;
  mac: string;
  mtu: number;
  vnetHdr: boolean;
  rx: RingGeometry;
  tx: RingGeometry;
}

export interface SerializedError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export type FromWorker =
  | { type: 'ready'; rings: RingInfo[]; tid: number }
  | { type: 'error'; error: SerializedError }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'stopped' };

export type ToWorker = { type: 'control'; id: number; body: unknown };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof TslvsError) return { code: err.code, message: err.message, details: { ...err.details } };
  return {
    code: ErrorCodes.INTERNAL,
    message: err instanceof Error ? err.message : String(err),
    details: {},
  };
}

export function deserializeError(e: SerializedError): TslvsError {
  const known = Object.values(ErrorCodes) as string[];
  const code = (known.includes(e.code) ? e.code : ErrorCodes.INTERNAL) as TslvsError['code'];
  return new TslvsError(code, e.message, e.details);
}
