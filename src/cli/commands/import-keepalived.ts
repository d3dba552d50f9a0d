/**
 * `tslvs import-keepalived FILE`: print the tslvs YAML equivalent of a keepalived.conf on stdout; list
 * on stderr everything not translated (or translated with a difference), with file and line. The
 * output is validated like `tslvs check` before it is printed.
 */
import { parseArgs } from 'node:util';
import { parseConfigText } from '../../control/config/load.js';
import { noteLine } from '../../control/keepalived/emit.js';
import { importKeepalived } from '../../control/keepalived/import.js';
import { ErrorCodes, isTslvsError, TslvsError } from '../../errors.js';

const HELP = `usage: tslvs import-keepalived FILE

Translate a keepalived.conf (with its includes) into a tslvs config, printed on stdout.
What cannot be translated is listed on stderr and at the top of the output, with file and line.

options:
  -h, --help  show this help

exit status: 0 translated, 1 unreadable input (or a translation that fails validation), 2 usage`;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ options: { help: { type: 'boolean'; short: 'h' } }; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (err) {
    throw new TslvsError(ErrorCodes.USAGE, `import-keepalived: ${(err as Error).message}\n\n${HELP}`);
  }
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    throw new TslvsError(ErrorCodes.USAGE, `import-keepalived: give exactly one FILE\n\n${HELP}`);
  }
  const file = parsed.positionals[0]!;
  try {
    const result = importKeepalived(file);
    for (const n of result.notes) console.error(noteLine(n));
    try {
      parseConfigText(result.yaml, '<translation>', { env: {}, readSecretFile: () => '' });
    } catch (err) {
      if (!isTslvsError(err, ErrorCodes.CONFIG)) throw err;
      console.error(`import-keepalived: the translation does not pass validation:\n${err.message}`);
      process.stdout.write(result.yaml);
      return 1;
    }
    process.stdout.write(result.yaml);
    return 0;
  } catch (err) {
    if (!isTslvsError(err, ErrorCodes.CONFIG)) throw err;
    console.error(`import-keepalived: ${err.message}`);
    return 1;
  }
}
