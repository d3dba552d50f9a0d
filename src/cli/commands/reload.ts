/**
 * `tslvs reload`: asks a running daemon to re-read its config file and apply the difference (the same as
 * sending it SIGHUP), and prints what changed.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../control/config/load.js';
import { formatIp } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { ApiClient, serverUrl } from '../api-client.js';

const USAGE = `usage: tslvs reload [-c FILE] [--server URL] [--token TOKEN]

Asks the running daemon to re-read its config file and apply only the difference.
  -c, --config FILE  read the admin address and token from this config file
  --server URL       admin API address (default: from -c, else http://127.0.0.1:9090)
  --token TOKEN      admin token (default: $TSLVS_TOKEN, else from -c)`;

interface ReloadAnswer {
  applied: boolean;
  changes: Array<{ kind: string; service?: string; realServer?: string; fields?: string[] }>;
  needsRestart: string[];
}

export async function main(argv: string[]): Promise<number> {
  let values: { config?: string; server?: string; token?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        server: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new TslvsError(ErrorCodes.USAGE, `${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let listen: { host: string; port: number } | null = null;
  let token = values.token ?? process.env.TSLVS_TOKEN ?? null;
  if (values.config) {
    const { config } = await loadConfigFile(values.config);
    listen = { host: formatIp(config.admin.listen.addr), port: config.admin.listen.port };
    token ??= config.admin.token;
  }
  const client = new ApiClient({ server: serverUrl(listen, values.server), token });
  const r = await client.request<ReloadAnswer>('POST', '/v1/reload');
  if (r.changes.length === 0) console.log('reloaded: no changes');
  for (const c of r.changes) {
    const what = [c.service, c.realServer].filter(Boolean).join(' ');
    console.log(`${c.kind}${what ? ` ${what}` : ''}${c.fields?.length ? ` (${c.fields.join(', ')})` : ''}`);
  }
  for (const n of r.needsRestart) console.log(`note: ${n}`);
  return 0;
}
