/**
 * The logging the HA layer needs: pino's `(fields, message)` calls. The daemon passes its pino logger;
 * tests pass `silentHaLogger` or a recorder.
 */
export interface HaLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const noop = () => {};
export const silentHaLogger: HaLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Keeps every line (tests assert on messages and fields). */
export class RecordingLogger implements HaLogger {
  readonly lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  debug(fields: object, message: string): void {
    this.lines.push({ level: 'debug', message, fields: fields as Record<string, unknown> });
  }
  info(fields: object, message: string): void {
    this.lines.push({ level: 'info', message, fields: fields as Record<string, unknown> });
  }
  warn(fields: object, message: string): void {
    this.lines.push({ level: 'warn', message, fields: fields as Record<string, unknown> });
  }
  error(fields: object, message: string): void {
    this.lines.push({ level: 'error', message, fields: fields as Record<string, unknown> });
  }
}
