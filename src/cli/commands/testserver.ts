/**
 * `tslvs testserver`: the small real server used by the lab and the demo: HTTP on TCP and an echo on UDP,
 * answering with its name and the client address it saw (PROXY protocol v1/v2 understood).
 */
import { parseArgs } from 'node:util';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { startEchoServer } from '../../tools/echo-server.js';

const USAGE = `usage: tslvs testserver --name NAME [--listen ADDR] [--tcp-port N] [--udp-port N]

HTTP (GET / -> "NAME CLIENT-IP:PORT", /healthz, /bytes/N, POST / -> sha256) and UDP echo.`;

export async function main(argv: string[]): Promise<number> {
  let values: { name?: string; listen?: string; 'tcp-port'?: string; 'udp-port'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        name: { type: 'string' },
        listen: { type: 'string' },
        'tcp-port': { type: 'string' },
        'udp-port': { type: 'string' },
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
  if (!values.name) throw new TslvsError(ErrorCodes.USAGE, `--name is required\n\n${USAGE}`);
  const server = await startEchoServer({
    name: values.name,
    host: values.listen ?? '0.0.0.0',
    tcpPort: Number(values['tcp-port'] ?? 80),
    udpPort: Number(values['udp-port'] ?? 53),
  });
  console.log(`testserver ${values.name} listening on tcp ${server.tcpPort} and udp ${server.udpPort}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.close();
  return 0;
}
