/** The packet pipeline's public API (see docs/architecture.md, "Packet pipeline and forwarders"). */

export { BATCH_MAX } from '../conntable/hash-index.js';
export type {
  ChecksumPolicy,
  InterfaceSpec,
  PipelineOptions,
  ResolvedConfig,
  ServicePipelineOptions,
} from './config.js';
export { macValue, resolveConfig } from './config.js';
export {
  type ForwardObserver,
  type FrameSink,
  MutableFrame,
  OutVnet,
  type PipelineFrame,
  RxStatus,
  VERDICT_NAMES,
  Verdict,
  type VerdictValue,
  VnetFlag,
  VnetGso,
  type VnetState,
} from './frame.js';
export { Pipeline } from './pipeline.js';
export { DROP_COUNT, DROP_NAMES, Drop, PASS_NAMES, Pass, STAT_NAMES, Stat } from './reasons.js';
export { type RouteSpec, RouteTable } from './routes.js';
