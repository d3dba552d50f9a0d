/**
 * `forward-to`: sends every frame received on port `from` (default 0) out of port `to` (default 1)
 * unchanged, offload metadata included; with `bidirectional: true` also the other way. Frames arriving
 * elsewhere are left to the kernel (PASS). A raw-forwarding stand-in until the real pipeline is plugged in.
 */
import { ErrorCodes, TslvsError } from '../../../errors.js';
import { type FrameHandler, type HandlerContext, type RxFrame, Verdict } from '../handler.js';

export interface ForwardToOptions {
  from?: number;
  to?: number;
  bidirectional?: boolean;
}

export function createHandler(ctx: HandlerContext): FrameHandler {
  const opts = (ctx.options ?? {}) as ForwardToOptions;
  const from = opts.from ?? 0;
  const to = opts.to ?? 1;
  const n = ctx.ports.length;
  if (
    !Number.isInteger(from) ||
    !Number.isInteger(to) ||
    from < 0 ||
    to < 0 ||
    from >= n ||
    to >= n ||
    from === to
  ) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `forward-to needs two distinct ports among the ${n} configured rings (from ${from}, to ${to})`,
      { from, to, rings: n },
    );
  }
  const out = ctx.ports[to]!;
  const back = ctx.ports[from]!;
  const both = opts.bidirectional === true;
  return {
    handle(frame: RxFrame): number {
      if (frame.port === from) return out.forward(frame) ? Verdict.SENT : Verdict.DROP;
      if (both && frame.port === to) return back.forward(frame) ? Verdict.SENT : Verdict.DROP;
      return Verdict.PASS;
    },
  };
}
