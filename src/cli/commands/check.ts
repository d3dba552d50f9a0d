/**
 * `tslvs check -c FILE`: validate a config file without running anything. Exit 0 when it is valid
 * (warnings go to stderr), 1 when it is not (every error on its own line), 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { formatIssue } from '../../control/config/issues.js';
import { configToJson } from '../../control/config/json.js';
import { loadConfigFile } from '../../control/config/load.js';
import { ErrorCodes, isTslvsError, TslvsError } from '../../errors.js';

const HELP = `usage: tslvs check -c FILE [--json]

Validate a tslvs config file without running it.

options:
  -c, --config FILE  the YAML config file to check (required)
      --json         print the normalized config (defaults applied, durations in ms) as JSON
  -h, --help         show this help

exit status: 0 valid, 1 invalid (each problem printed as FILE:LINE:COLUMN: key.path: message), 2 usage`;

function parse(argv: string[]): { file: string; json: boolean } | null {
  let values: { config?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new TslvsError(ErrorCodes.USAGE, `check: ${(err as Error).message}\n\n${HELP}`);
  }
  if (values.help) return null;
  if (!values.config) throw new TslvsError(ErrorCodes.USAGE, `check: -c FILE is required\n\n${HELP}`);
  return { file: values.config, json: values.json ?? false };
}

export async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (!args) {
    console.log(HELP);
    return 0;
  }
  try {
    const { config, warnings } = await loadConfigFile(args.file);
    for (const w of warnings) console.error(formatIssue(w));
    if (args.json) {
      console.log(JSON.stringify(configToJson(config), null, 2));
    } else {
      const rs = config.services.reduce((n, s) => n + s.realServers.length, 0);
      console.log(`${args.file}: OK (${config.services.length} services, ${rs} real servers)`);
    }
    return 0;
  } catch (err) {
    if (!isTslvsError(err, ErrorCodes.CONFIG)) throw err;
    const issues = (err.details.issues as { text: string }[] | undefined) ?? [{ text: err.message }];
    const warnings = (err.details.warnings as { text: string }[] | undefined) ?? [];
    for (const i of [...issues, ...warnings]) console.error(i.text);
    return 1;
  }
}
