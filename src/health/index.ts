/** Public API of the health layer: checkers, the rise/fall monitor, the manager and their clock. */
export type { Checker, CheckResult, HealthTarget } from './checker.js';
export { describeError } from './checker.js';
export { createExecChecker, substituteTokens } from './exec.js';
export { createHttpChecker, defaultHostHeader } from './http.js';
export type { DesiredCheck, HealthManagerOptions, MonitorEntry, SyncChanges } from './manager.js';
export { HealthManager, specEquals } from './manager.js';
export type {
  CheckerFactoryFn,
  HealthMonitorOptions,
  HealthState,
  MonitorStatus,
  TransitionEvent,
} from './monitor.js';
export { HealthMonitor, JITTER, WATCHDOG_GRACE_MS } from './monitor.js';
export { createNoneChecker } from './none.js';
export type { CheckerFactory } from './registry.js';
export { assertValidTiming, CHECKER_FACTORIES, createChecker } from './registry.js';
export type { ExecSpec, HealthCheckSpec, HealthKind, HttpSpec, NoneSpec, TcpSpec, UdpSpec } from './spec.js';
export { HEALTH_DEFAULTS, HEALTH_KINDS } from './spec.js';
export { createTcpChecker } from './tcp.js';
export type { TimerHandle, Timers } from './timers.js';
export { FakeTimers, flushMicrotasks, realTimers } from './timers.js';
export { createUdpChecker } from './udp.js';
