/**
 * Logs: JSON lines (pino) for machines, human-readable when stdout is a terminal.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Default: whether stdout is a TTY. */
  pretty?: boolean;
  /** Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const human = opts.pretty ?? Boolean(process.stdout.isTTY);
  const base = { level: opts.level, base: { pid: process.pid } };
  if (human) {
    return pino(
      base,
      pretty({
        colorize: true,
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        destination: opts.destination ?? 1,
      }),
    );
  }
  return pino(base, opts.destination ?? pino.destination({ fd: 1, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
