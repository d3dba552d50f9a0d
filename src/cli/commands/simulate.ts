/**
 * `tslvs simulate`: asks the running daemon where a flow would go (POST /v1/simulate): the real server,
 * the forwarding method and the session state after each packet, without touching the running balancer.
 */
import { parseArgs } from 'node:util';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { ApiClient, serverUrl } from '../api-client.js';

const USAGE = `usage: tslvs simulate --service NAME --client ADDR:PORT [--packets SPEC] [--server URL]

  --service NAME     service name (or key, tcp/VIP:PORT)
  --client ADDR:PORT the client's address and port
  --packets SPEC     comma-separated packets: in:S,out:SA,in:A,in:FA (direction:TCP flags); default in:S
  --server URL       admin API (default http://127.0.0.1:9090)`;

interface Step {
  packet: { dir: string; flags?: string };
  state: string;
  timeoutMs: number;
  realServer: string | null;
  note?: string;
}

export async function main(argv: string[]): Promise<number> {
  let values: { service?: string; client?: string; packets?: string; server?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        service: { type: 'string' },
        client: { type: 'string' },
        packets: { type: 'string' },
        server: { type: 'string' },
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
  if (!values.service || !values.client)
    throw new TslvsError(ErrorCodes.USAGE, `--service and --client are required\n\n${USAGE}`);
  const packets = values.packets?.split(',').map((p, i) => {
    const [dir, flags = ''] = p.split(':');
    if (dir !== 'in' && dir !== 'out')
      throw new TslvsError(ErrorCodes.USAGE, `--packets item ${i + 1} '${p}': direction must be in or out`);
    return { dir, flags };
  });
  const client = new ApiClient({
    server: serverUrl(null, values.server),
    token: process.env.TSLVS_TOKEN ?? null,
  });
  const r = await client.request<{ realServer: string | null; forwarding: string | null; steps: Step[] }>(
    'POST',
    '/v1/simulate',
    {
      service: values.service,
      client: values.client,
      ...(packets ? { packets } : {}),
    },
  );
  console.log(
    `real server: ${r.realServer ?? '(none)'}${r.forwarding ? `  forwarding: ${r.forwarding}` : ''}`,
  );
  for (const s of r.steps) {
    const what = `${s.packet.dir}${s.packet.flags ? ` ${s.packet.flags}` : ''}`;
    console.log(
      `  ${what.padEnd(8)} -> ${s.state.padEnd(12)} ${(s.timeoutMs / 1000).toFixed(0).padStart(5)} s${s.note ? `  (${s.note})` : ''}`,
    );
  }
  return 0;
}
