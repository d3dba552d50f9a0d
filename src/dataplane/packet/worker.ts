/**
 * PacketWorker: the main-thread handle of a packet worker thread (see worker-main.ts and loop.ts).
 *
 * Counters are read from shared memory (`counters` / `snapshot()`), never messaged per packet. Control
 * messages go through postMessage and are answered after the current loop slice. Shutdown is explicit:
 * a thread blocked in a foreign call does not end on process.exit(), so `stop()` raises a shared flag,
 * wakes the worker's poll() through an eventfd, waits (bounded) for the thread to exit, and only then
 * falls back to terminate().
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { EFD_CLOEXEC, EFD_NONBLOCK } from './constants.js';
import { createCounterArray, type PacketCounters, snapshotCounters } from './counters.js';
import { libc, syscallError } from './libc.js';
import type { LoopOptions } from './loop.js';
import type { PacketRingOptions } from './ring.js';
import type { ThreadPriority } from './sched.js';
import {
  deserializeError,
  type FromWorker,
  type RingInfo,
  type ToWorker,
  type WorkerData,
} from './worker-protocol.js';

export type { RingInfo } from './worker-protocol.js';

/** Handlers shipped with tslvs, by name. */
const BUILTIN_HANDLERS: Record<string, string> = {
  reflect: './handlers/reflect.js',
  'forward-to': './handlers/forward-to.js',
};

export interface PacketWorkerOptions extends LoopOptions {
  /** The rings the worker opens; port i of the handler transmits on rings[i]. */
  rings: PacketRingOptions[];
  /** A built-in handler name ('reflect', 'forward-to'), an absolute path or a file: URL of a module. */
  handler: string;
  handlerOptions?: unknown;
  /** Network namespace (name under /run/netns or a path) the worker thread joins before opening rings. */
  netns?: string;
  /** Pin the worker thread to this CPU. */
  cpu?: number;
  /** Scheduling priority of the worker thread (e.g. `{ realtime: 10 }` on a core dedicated to it). */
  priority?: ThreadPriority;
  /** How long start() waits for the rings to open. Default 10 s. */
  startTimeoutMs?: number;
}

export interface StopResult {
  /** The worker left its loop and exited by itself (false: terminate() was needed). */
  graceful: boolean;
  counters: PacketCounters;
}

export class PacketWorker {
  /** Live counters, indexed by `Counter`. */
  readonly counters: Float64Array;
  readonly rings: readonly RingInfo[];
  readonly threadId: number;
  /** Kernel thread id of the worker (for taskset, /proc/self/task/<tid>, perf). */
  readonly tid: number;
  /** Settles with the exit code when the thread is gone. */
  readonly exited: Promise<number>;

  readonly #worker: Worker;
  readonly #control: Int32Array;
  #wakeFd: number;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #stopping: Promise<StopResult> | null = null;
  #alive = true;

  private constructor(
    worker: Worker,
    counters: Float64Array,
    control: Int32Array,
    wakeFd: number,
    ready: { rings: RingInfo[]; tid: number },
  ) {
    this.#worker = worker;
    this.counters = counters;
    this.#control = control;
    this.#wakeFd = wakeFd;
    this.rings = ready.rings;
    this.tid = ready.tid;
    this.threadId = worker.threadId;
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    void this.exited.then(() => {
      this.#alive = false;
      for (const p of this.#pending.values())
        p.reject(new TslvsError(ErrorCodes.UNAVAILABLE, 'packet worker exited'));
      this.#pending.clear();
      this.#closeWakeFd();
    });
    worker.on('message', (msg: FromWorker) => {
      if (msg.type !== 'reply') return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(deserializeError(msg.error));
    });
  }

  /** Starts a worker and resolves once its rings are open and its handler loaded. */
  static async start(opts: PacketWorkerOptions): Promise<PacketWorker> {
    if (!Array.isArray(opts.rings) || opts.rings.length === 0) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'a packet worker needs at least one ring');
    }
    const handlerUrl = resolveHandler(opts.handler);
    const counters = createCounterArray();
    const control = new Int32Array(new SharedArrayBuffer(16));
    const c = libc();
    const wakeFd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) throw syscallError('eventfd', c.errno());
    const data: WorkerData = {
      rings: opts.rings,
      handlerUrl,
      handlerOptions: opts.handlerOptions,
      loop: {
        batchSize: opts.batchSize,
        pollTimeoutMs: opts.pollTimeoutMs,
        sliceMs: opts.sliceMs,
        statsIntervalMs: opts.statsIntervalMs,
      },
      counters,
      control,
      wakeFd,
    };
    if (opts.netns !== undefined) data.netns = opts.netns;
    if (opts.cpu !== undefined) data.cpu = opts.cpu;
    if (opts.priority !== undefined) data.priority = opts.priority;
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: data });
    try {
      const ready = await waitReady(worker, opts.startTimeoutMs ?? 10_000);
      return new PacketWorker(worker, counters, control, wakeFd, ready);
    } catch (err) {
      await worker.terminate().catch(() => 0);
      c.close(wakeFd);
      throw err;
    }
  }

  get running(): boolean {
    return this.#alive;
  }

  /** A plain-object copy of the counters. */
  snapshot(): PacketCounters {
    return snapshotCounters(this.counters);
  }

  /** Sends a control message to the handler and resolves with its answer. */
  control(body: unknown, timeoutMs = 5000): Promise<unknown> {
    if (!this.#alive || this.#stopping) {
      return Promise.reject(new TslvsError(ErrorCodes.UNAVAILABLE, 'packet worker is not running'));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new TslvsError(
            ErrorCodes.UNAVAILABLE,
            `packet worker did not answer control message ${id} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#worker.postMessage({ type: 'control', id, body } satisfies ToWorker);
      this.wake();
    });
  }

  /** Cuts the worker's current poll() short. */
  wake(): void {
    if (this.#wakeFd < 0) return;
    const one = Buffer.alloc(8);
    one.writeUInt32LE(1, 0);
    libc().write(this.#wakeFd, one, 8);
  }

  /** Stops the loop, waits up to `timeoutMs` for the thread to exit, then terminates it. Idempotent. */
  stop(timeoutMs = 2000): Promise<StopResult> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<StopResult> {
    Atomics.store(this.#control, 0, 1);
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!graceful) {
      await this.#worker.terminate();
      await this.exited;
    }
    return { graceful, counters: this.snapshot() };
  }

  #closeWakeFd(): void {
    // Closed only after the thread is gone, so the worker can never poll a recycled descriptor number.
    if (this.#wakeFd >= 0) libc().close(this.#wakeFd);
    this.#wakeFd = -1;
  }
}

function resolveHandler(handler: string): string {
  const builtin = BUILTIN_HANDLERS[handler];
  if (builtin) return new URL(builtin, import.meta.url).href;
  if (handler.startsWith('file:')) return handler;
  if (isAbsolute(handler)) return pathToFileURL(handler).href;
  throw new TslvsError(
    ErrorCodes.INVALID_ARGUMENT,
    `packet handler ${JSON.stringify(handler)} is neither a built-in (${Object.keys(BUILTIN_HANDLERS).join(', ')}) nor an absolute path`,
    { handler },
  );
}

function waitReady(worker: Worker, timeoutMs: number): Promise<{ rings: RingInfo[]; tid: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new TslvsError(ErrorCodes.UNAVAILABLE, `packet worker did not start in ${timeoutMs} ms`)),
        ),
      timeoutMs,
    );
    const onMessage = (msg: FromWorker) => {
      if (msg.type === 'ready') finish(() => resolve({ rings: msg.rings, tid: msg.tid }));
      else if (msg.type === 'error') finish(() => reject(deserializeError(msg.error)));
    };
    const onError = (err: Error) =>
      finish(() => reject(new TslvsError(ErrorCodes.INTERNAL, `packet worker failed: ${err.message}`)));
    const onExit = (code: number) =>
      finish(() =>
        reject(new TslvsError(ErrorCodes.INTERNAL, `packet worker exited (${code}) during start`)),
      );
    const finish = (f: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      f();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
