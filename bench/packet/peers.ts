/**
 * The C forwarding peers: the same raw forward as the worker's `forward-to`, in C, over AF_PACKET rings
 * (cforward.c) and over AF_XDP sockets (xdpforward.c), pinned and prioritised as the worker is. They
 * show what each I/O layer costs without JavaScript.
 */
import type { Generator } from './generator.js';
import type { BenchMode } from './modes.js';
import { dropIngress, forwarding, REALTIME_PRIORITY, undoDropIngress } from './setup.js';
import { inputNapi } from './topology.js';

/**
 * A C forwarding peer (`binary` of the built tools) that takes every frame on the director's input and
 * sends it out of its output, MACs rewritten, pinned and prioritised as the worker is.
 */
interface CPeerSpec {
  name: string;
  title: string;
  binary: (tools: Generator) => string;
  /** Drop at the director's ingress after the AF_PACKET taps (the kernel must not forward too). */
  ingressDrop: boolean;
  /** Run the input interface's NAPI as threads on the director's CPU (inputNapi). */
  napiThreads: boolean;
  optional: boolean;
}

function cPeer({ name, title, binary, ingressDrop, napiThreads, optional }: CPeerSpec): BenchMode {
  return {
    name,
    title,
    optional,
    target: (t) => ({ dstIp: t.sinkIp, dstPort: 9 }),
    async start(t, tools) {
      await forwarding(t, false);
      if (ingressDrop) await dropIngress(t);
      // The later modes get the interface as they would have without this one. (Once the XDP program
      // is gone veth has no NAPI and refuses the write: nothing is left to undo then.)
      const undo = async () => {
        if (ingressDrop) await undoDropIngress(t);
        if (napiThreads && t.dirNapi.length === 0) {
          const path = `/sys/class/net/${t.dirIn}/threaded`;
          await t.lab.exec(t.dir, ['tee', path], { input: '0\n', allowFailure: true });
        }
      };
      const argv = ['chrt', '-f', String(REALTIME_PRIORITY), 'taskset', '-c', String(t.directorCpu)];
      const proc = t.lab.spawn(t.dir, [
        ...argv,
        binary(tools),
        t.dirIn,
        t.dirOut,
        t.sinkMac,
        t.dirOutMac,
        '120',
      ]);
      try {
        await proc.waitForLine(/^ready$/, 10_000);
      } catch (err) {
        await proc.stop();
        await undo();
        throw new Error(`${name} did not start: ${proc.stderr()}`, { cause: err });
      }
      const napi = napiThreads ? await inputNapi(t) : [];
      return {
        threads: () => [proc.pid, ...napi],
        details: () => ({}),
        // Its counts come with its exit.
        async finalDetails(): Promise<Record<string, number>> {
          await proc.stop();
          const m = /forwarded (\d+) rx (\d+) drops (\d+)/.exec(proc.lines.at(-1) ?? '');
          return m ? { forwarded: Number(m[1]), rx: Number(m[2]), 'kernel ring drops': Number(m[3]) } : {};
        },
        async stop() {
          await proc.stop();
          await undo();
        },
      };
    },
  };
}

/**
 * The peer for the user-space modes: cforward.c, the raw forward in C over the same TPACKET_V2 ring
 * geometry. What it reaches is AF_PACKET's own ceiling on this kernel; the gap between it and
 * packet_raw_forward is what the JavaScript worker costs.
 */
export const cForward = cPeer({
  name: 'afpacket_c_forward',
  title: 'C forwarder over the same AF_PACKET rings (the ceiling of the ring I/O itself)',
  binary: (tools) => tools.forwarder,
  ingressDrop: true,
  napiThreads: false,
  optional: false,
});

/**
 * The same C forward over AF_XDP (xdpforward.c: an XDP program redirects every frame of the input to an
 * AF_XDP socket in copy mode; a second one sends). XDP takes the frames before the stack, so no ingress
 * drop is needed. It measures what an AF_XDP I/O layer would give the worker here, before building one.
 */
export const xdpForward = cPeer({
  name: 'afxdp_c_forward',
  title: 'C forwarder over AF_XDP sockets (copy mode), the candidate I/O layer',
  binary: (tools) => tools.xdpForwarder,
  ingressDrop: false,
  napiThreads: true,
  optional: true,
});
