/**
 * One error family for the whole project, after undici's `lib/core/errors.js`: every error a user or a
 * test can see carries a stable string `code`. Messages may change; codes may not.
 */
export const ErrorCodes = {
  /** A configuration file or value is invalid (schema, syntax, semantic check). */
  CONFIG: 'TSLVS_ERR_CONFIG',
  /** An address or port string could not be parsed. */
  ADDRESS: 'TSLVS_ERR_ADDRESS',
  /** A scheduler name is unknown or its options are invalid. */
  SCHEDULER: 'TSLVS_ERR_SCHEDULER',
  /** A virtual service already exists / does not exist. */
  SERVICE_EXISTS: 'TSLVS_ERR_SERVICE_EXISTS',
  SERVICE_NOT_FOUND: 'TSLVS_ERR_SERVICE_NOT_FOUND',
  /** A real server already exists / does not exist in its service. */
  DEST_EXISTS: 'TSLVS_ERR_DEST_EXISTS',
  DEST_NOT_FOUND: 'TSLVS_ERR_DEST_NOT_FOUND',
  /** An argument is out of range or inconsistent (weights, thresholds, timeouts...). */
  INVALID_ARGUMENT: 'TSLVS_ERR_INVALID_ARGUMENT',
  /** A fixed-capacity structure (session table, port pool, service table) is full. */
  CAPACITY: 'TSLVS_ERR_CAPACITY',
  /** Admin API: missing or wrong credentials. */
  UNAUTHORIZED: 'TSLVS_ERR_UNAUTHORIZED',
  FORBIDDEN: 'TSLVS_ERR_FORBIDDEN',
  NOT_FOUND: 'TSLVS_ERR_NOT_FOUND',
  /** Command-line usage error (exit status 2). */
  USAGE: 'TSLVS_ERR_USAGE',
  /** The host is not fit for the requested data plane (privileges, interface, sysctl). */
  ENVIRONMENT: 'TSLVS_ERR_ENVIRONMENT',
  /** A foreign call (socket, ioctl, mmap) failed. */
  SYSCALL: 'TSLVS_ERR_SYSCALL',
  /** A wire format could not be parsed (control-plane paths only; the hot path counts instead). */
  MALFORMED: 'TSLVS_ERR_MALFORMED',
  /** A peer (daemon, health target) did not answer as expected. */
  UNAVAILABLE: 'TSLVS_ERR_UNAVAILABLE',
  INTERNAL: 'TSLVS_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class TslvsError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable context: file, line, key path, offending value... */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TslvsError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isTslvsError(err: unknown, code?: ErrorCode): err is TslvsError {
  return err instanceof TslvsError && (code === undefined || err.code === code);
}
