/**
 * `tslvs run -c FILE`: the daemon in the foreground. SIGHUP re-reads the config and applies the
 * difference; SIGTERM/SIGINT stop accepting, wait for open connections up to the grace period, then exit.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../control/config/duration.js';
import { loadConfigFile } from '../../control/config/load.js';
import { Daemon } from '../../control/daemon.js';
import { createLogger } from '../../control/logger.js';
import { ErrorCodes, TslvsError } from '../../errors.js';

const USAGE = `usage: tslvs run -c FILE [--grace DURATION] [--log-level LEVEL] [--pretty | --json]

Runs the load balancer in the foreground.
  -c, --config FILE   config file (YAML); see docs/config.md
  --grace DURATION    on SIGTERM/SIGINT, how long open connections may finish (default 30s)
  --log-level LEVEL   overrides log.level (trace debug info warn error fatal)
  --pretty / --json   human-readable or JSON logs (default: human on a terminal)

Signals: SIGHUP reloads the config file (only the difference is applied); SIGTERM/SIGINT stop gracefully.`;

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    throw new TslvsError(ErrorCodes.USAGE, `${(err as Error).message}\n\n${USAGE}`);
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = args.values.config;
  if (!file) throw new TslvsError(ErrorCodes.USAGE, `missing -c FILE\n\n${USAGE}`);
  let graceMs = 30_000;
  if (args.values.grace) {
    const d = parseDuration(args.values.grace);
    if ('error' in d) throw new TslvsError(ErrorCodes.USAGE, `--grace: ${d.error}`);
    graceMs = d.ms;
  }
  const { config, warnings } = await loadConfigFile(file);
  const logger = createLogger({
    level: args.values['log-level'] ?? config.log.level,
    ...(args.values.pretty ? { pretty: true } : args.values.json ? { pretty: false } : {}),
  });
  for (const w of warnings) logger.warn({ file: w.file, line: w.line, column: w.column }, w.message);
  const daemon = await Daemon.start({ config, configFile: file, logger });
  await new Promise<void>((resolve) => {
    process.on('SIGHUP', () => {
      daemon.reload().then(
        (r) => logger.info({ changes: r.changes.length }, 'reloaded on SIGHUP'),
        (err: unknown) =>
          logger.error(
            { err: err instanceof TslvsError ? err.message : err },
            'reload failed; still running the previous config',
          ),
      );
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      daemon.stop(graceMs).then(resolve, resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      grace: { type: 'string' },
      'log-level': { type: 'string' },
      pretty: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}
