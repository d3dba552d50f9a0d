/**
 * Entry point of a packet worker thread (started by PacketWorker). It declares koffi for itself, optionally
 * joins a network namespace and pins itself to a CPU (both affect only this thread), opens its rings,
 * loads the handler module, then runs the loop until the main thread raises the stop flag.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { CreateHandler, FrameHandler } from './handler.js';
import { formatMac } from './ifinfo.js';
import { libc } from './libc.js';
import { PacketLoop } from './loop.js';
import { enterNetns } from './netns.js';
import { PacketRing } from './ring.js';
import { pinThreadToCpu, setThreadPriority } from './sched.js';
import { tuneV8ForPacketPath } from './v8-tuning.js';
import { type FromWorker, serializeError, type ToWorker, type WorkerData } from './worker-protocol.js';

const port = parentPort!;
const data = workerData as WorkerData;
const post = (msg: FromWorker) => port.postMessage(msg);

async function main(): Promise<void> {
  const rings: PacketRing[] = [];
  let handler: FrameHandler | null = null;
  tuneV8ForPacketPath();
  try {
    if (data.netns !== undefined) enterNetns(data.netns);
    if (data.cpu !== undefined) pinThreadToCpu(data.cpu);
    if (data.priority !== undefined) setThreadPriority(data.priority);
    rings.push(...PacketRing.openGroup(data.rings));
    handler = await loadHandler(data.handlerUrl, rings, data.handlerOptions);
  } catch (err) {
    for (const r of rings) r.close();
    post({ type: 'error', error: serializeError(err) });
    // Closing the port (rather than process.exit) lets the message above be delivered first.
    port.close();
    return;
  }
  const loop = new PacketLoop(rings, handler, data.counters, data.control, data.wakeFd, data.loop);
  port.on('message', (msg: ToWorker) => {
    if (msg?.type !== 'control') return;
    loop.countControl();
    Promise.resolve()
      .then(() => {
        if (!handler?.control) {
          throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'this packet handler takes no control messages');
        }
        return handler.control(msg.body);
      })
      .then(
        (result) => post({ type: 'reply', id: msg.id, ok: true, result }),
        (err) => post({ type: 'reply', id: msg.id, ok: false, error: serializeError(err) }),
      );
  });
  post({
    type: 'ready',
    tid: libc().gettid(),
    rings: rings.map((r) => ({
      ifname: r.ifname,
      ifindex: r.ifindex,
      mac: formatMac(r.mac),
      mtu: r.mtu,
      vnetHdr: r.vnetHdr,
      rx: r.rx,
      tx: r.tx,
    })),
  });
  let failure: unknown = null;
  try {
    await loop.run();
  } catch (err) {
    failure = err;
  }
  try {
    handler.close?.();
  } finally {
    for (const r of rings) r.close();
  }
  post(failure ? { type: 'error', error: serializeError(failure) } : { type: 'stopped' });
  port.close();
}

async function loadHandler(url: string, rings: PacketRing[], options: unknown): Promise<FrameHandler> {
  let mod: { createHandler?: CreateHandler; default?: CreateHandler };
  try {
    mod = await import(url);
  } catch (err) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `cannot load packet handler ${url}: ${(err as Error).message}`,
      {
        handler: url,
      },
    );
  }
  const create = mod.createHandler ?? mod.default;
  if (typeof create !== 'function') {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `packet handler ${url} does not export createHandler()`,
      {
        handler: url,
      },
    );
  }
  const handler = await create({ ports: PacketLoop.ports(rings), options });
  if (!handler || typeof handler.handle !== 'function') {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `createHandler() of ${url} returned no handle() method`,
      {
        handler: url,
      },
    );
  }
  return handler;
}

void main();
