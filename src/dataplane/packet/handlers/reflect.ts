/**
 * `reflect`: sends every unicast frame back out of the port it arrived on with source and destination MAC
 * swapped (offload metadata passed through). For tests and benchmarks: the peer sees its own traffic
 * come back. Broadcast/multicast frames are left to the kernel (PASS).
 */
import { type FrameHandler, type HandlerContext, type RxFrame, Verdict } from '../handler.js';

export function createHandler(ctx: HandlerContext): FrameHandler {
  const ports = ctx.ports;
  return {
    handle(frame: RxFrame): number {
      const src = frame.buf;
      if (frame.len < 14 || (src[frame.offset]! & 1) !== 0) return Verdict.PASS;
      const port = ports[frame.port]!;
      const dst = port.acquire();
      if (dst < 0) return Verdict.DROP;
      const out = port.buf;
      if (src === out) out.copyWithin(dst, frame.offset, frame.offset + frame.len);
      else src.copy(out, dst, frame.offset, frame.offset + frame.len);
      for (let i = 0; i < 6; i++) {
        const t = out[dst + i]!;
        out[dst + i] = out[dst + 6 + i]!;
        out[dst + 6 + i] = t;
      }
      return port.send(frame.len, frame) ? Verdict.SENT : Verdict.DROP;
    },
  };
}
