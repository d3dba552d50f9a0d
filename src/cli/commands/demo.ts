/**
 * `tslvs demo` (what `npm start` runs): three small real servers on loopback and, in front of them, a TCP
 * service on 127.0.0.1:8080 (wrr, HTTP health checks) and a UDP echo service on 127.0.0.1:8053, plus the
 * admin API on 127.0.0.1:9090. No root, any OS.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parseConfigText } from '../../control/config/load.js';
import { Daemon } from '../../control/daemon.js';
import { createLogger } from '../../control/logger.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { type EchoServer, startEchoServer } from '../../tools/echo-server.js';

const USAGE = `usage: tslvs demo [--host ADDR] [--tcp-port N] [--udp-port N] [--admin-port N] [--token T]

Starts three demo real servers on loopback and a TCP (HTTP) and a UDP (echo) virtual service in front of
them, with health checks, and the admin API. Ctrl-C stops everything.`;

function port(v: string | undefined, dflt: number, flag: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new TslvsError(ErrorCodes.USAGE, `${flag}: '${v}' is not a port number`);
  return n;
}

export function demoConfigYaml(o: {
  host: string;
  tcpPort: number;
  udpPort: number;
  adminPort: number;
  token: string;
  backends: EchoServer[];
}): string {
  const weights = [3, 2, 1];
  const h = o.host.includes(':') ? `[${o.host}]` : o.host;
  const tcpServers = o.backends
    .map((b, i) => `      - { address: "${h}:${b.tcpPort}", weight: ${weights[i] ?? 1} }`)
    .join('\n');
  const udpServers = o.backends.map((b) => `      - { address: "${h}:${b.udpPort}", weight: 1 }`).join('\n');
  return `# tslvs demo configuration (generated)
admin: { listen: "${h}:${o.adminPort}", token: "${o.token}" }
dataplane: { kind: proxy }
services:
  - name: demo-http
    protocol: tcp
    address: "${h}:${o.tcpPort}"
    scheduler: wrr
    health: { kind: http, path: /healthz, expectStatus: 200, interval: 2s, timeout: 1s, rise: 2, fall: 2 }
    realServers:
${tcpServers}
  - name: demo-echo
    protocol: udp
    address: "${h}:${o.udpPort}"
    scheduler: rr
    health: { kind: udp, payload: "ping", interval: 2s, timeout: 1s, rise: 2, fall: 2 }
    realServers:
${udpServers}
`;
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        'tcp-port': { type: 'string' },
        'udp-port': { type: 'string' },
        'admin-port': { type: 'string' },
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
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const tcpPort = port(values['tcp-port'] as string | undefined, 8080, '--tcp-port');
  const udpPort = port(values['udp-port'] as string | undefined, 8053, '--udp-port');
  const adminPort = port(values['admin-port'] as string | undefined, 9090, '--admin-port');
  const token =
    (values.token as string | undefined) ?? process.env.TSLVS_TOKEN ?? randomBytes(12).toString('hex');
  const backends: EchoServer[] = [];
  for (let i = 1; i <= 3; i++) backends.push(await startEchoServer({ name: `backend-${i}`, host }));
  const yaml = demoConfigYaml({ host, tcpPort, udpPort, adminPort, token, backends });
  const { config } = parseConfigText(yaml, 'demo config', { env: {}, readSecretFile: () => '' });
  const logger = createLogger({ level: 'info' });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, configFile: null, logger });
  } catch (err) {
    await Promise.all(backends.map((b) => b.close()));
    throw err;
  }
  const h = host.includes(':') ? `[${host}]` : host;
  console.log(`
tslvs demo is running.
  TCP service  demo-http  ${h}:${tcpPort}  wrr over 3 real servers (weights 3, 2, 1), HTTP health checks
  UDP service  demo-echo  ${h}:${udpPort}  rr over 3 real servers, UDP health checks
  admin API    http://${h}:${adminPort}   token: ${token}

Try:
  curl http://${h}:${tcpPort}/                      # which backend answered, and the client it saw
  for i in $(seq 6); do curl -s http://${h}:${tcpPort}/; done
  echo hello | nc -u -w1 ${host} ${udpPort}
  curl http://${h}:${adminPort}/v1/services
  TSLVS_TOKEN=${token} node dist/src/cli/main.js adm -L -n --server ${h}:${adminPort}

Ctrl-C stops the demo.`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      daemon.stop(2000).then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.all(backends.map((b) => b.close()));
  return 0;
}
