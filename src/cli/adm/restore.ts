/**
 * `-R`: rules from stdin, one ipvsadm command per line (what -S writes; a leading `ipvsadm` word and
 * `#` comments are allowed). tslvs sends them as one batch, so a restore is all or nothing: ipvsadm runs
 * them one by one and keeps going after a failed line.
 */
import { type AdmCommand, toCommand } from './command.js';
import { AdmUsageError, parseArgs } from './options.js';

export interface RestoreLine {
  line: number;
  command: AdmCommand;
}

/** Words of a line as config_stream_read splits them: blanks separate, the word "ipvsadm" is skipped. */
function words(text: string): string[] {
  const hash = text.search(/(^|\s)#/);
  const body = hash < 0 ? text : text.slice(0, hash);
  return body.split(/[ \t\r]+/).filter((w) => w !== '' && w !== 'ipvsadm');
}

const RESTORABLE = new Set([
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'add-server',
  'edit-server',
  'delete-server',
  'set',
]);

/** Parses every line; a usage error names its line. */
export function parseRestore(input: string): RestoreLine[] {
  const out: RestoreLine[] = [];
  input.split('\n').forEach((text, i) => {
    const argv = words(text);
    if (argv.length === 0) return;
    const line = i + 1;
    let command: AdmCommand;
    try {
      command = toCommand(parseArgs(argv));
    } catch (err) {
      if (err instanceof AdmUsageError) {
        throw new AdmUsageError(`line ${line}: ${err.message || 'not an ipvsadm command'}`);
      }
      throw err;
    }
    if (!RESTORABLE.has(command.cmd))
      throw new AdmUsageError(
        `line ${line}: '${argv.join(' ')}' cannot be restored (only table changes can)`,
      );
    out.push({ line, command });
  });
  return out;
}
