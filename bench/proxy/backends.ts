/**
 * The real servers behind every proxy under test, pinned to the load CPU: an nginx HTTP server with a
 * small fixed response (wrk), bench/proxy's C UDP echo (datagrams) and, in this process, a TCP server
 * that accepts and holds (idle connections), all started once for the whole run; and iperf3 -s
 * (throughput), started for each test on a port reserved here, so every test meets a fresh server.
 */
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/tools/exec.js';
import { type Child, freePort, HOST, httpAnswers, poll, startPinned, whileAlive } from './proc.js';

const here = dirname(fileURLToPath(import.meta.url));
const udptoolSource = join(here, '..', '..', '..', 'bench', 'proxy', 'udptool.c');

/** The HTTP response body (64 bytes): small, so wrk measures per-request work, not bytes. */
export const HTTP_BODY = 'tslvs proxy benchmark: a small fixed response from nginx (64 B)';

export interface Backends {
  iperf: number;
  http: number;
  hold: number;
  echo: number;
  holdServer: HoldServer;
  udptool: string;
  stop(): Promise<void>;
}

/** Accepts and holds connections, counting the open ones (the proxy's upstream side of idle conns). */
export class HoldServer {
  readonly server = net.createServer({ noDelay: true }, (s) => {
    this.open++;
    s.on('error', () => {});
    s.on('close', () => this.open--);
  });
  open = 0;

  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.server.listen({ host: HOST, port: 0, backlog: 4096 }, () =>
        resolve((this.server.address() as net.AddressInfo).port),
      ),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** `iperf3 -s -1` on `port`: serves one test, then exits. Resolves once it listens. */
export async function startIperfServer(port: number, cpu: number): Promise<Child> {
  const c = startPinned('iperf3 server', cpu, [
    'iperf3',
    '-s',
    '-1',
    '-B',
    HOST,
    '-p',
    String(port),
    '--forceflush',
  ]);
  try {
    await whileAlive(
      c,
      poll('iperf3 -s to listen', () => /Server listening/.test(c.output())),
    );
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}

export async function buildUdptool(dir: string): Promise<string> {
  if (!existsSync(udptoolSource)) throw new Error(`UDP tool source not found at ${udptoolSource}`);
  const binary = join(dir, 'udptool');
  await run(['cc', '-O2', '-o', binary, udptoolSource], { timeoutMs: 60_000 });
  return binary;
}

function nginxHttpConfig(dir: string, port: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/http.pid;
error_log ${dir}/http-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/http-body;
  proxy_temp_path ${dir}/http-proxy;
  fastcgi_temp_path ${dir}/http-fastcgi;
  uwsgi_temp_path ${dir}/http-uwsgi;
  scgi_temp_path ${dir}/http-scgi;
  server {
    listen ${HOST}:${port} backlog=4096;
    location / { return 200 "${HTTP_BODY}\\n"; }
  }
}
`;
}

/** Starts every backend on `cpu`; `dir` is this run's private temporary directory. */
export async function startBackends(dir: string, cpu: number): Promise<Backends> {
  const children: Child[] = [];
  const holdServer = new HoldServer();
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await holdServer.close();
  };
  try {
    const udptool = await buildUdptool(dir);
    const [iperf, http, echo] = [await freePort(), await freePort(), await freePort()];
    const hold = await holdServer.listen();

    const conf = join(dir, 'http.conf');
    writeFileSync(conf, nginxHttpConfig(dir, http));
    const ng = startPinned('nginx HTTP backend', cpu, [
      'nginx',
      '-e',
      join(dir, 'http-error.log'),
      '-p',
      dir,
      '-c',
      conf,
    ]);
    children.push(ng);
    await whileAlive(
      ng,
      poll('the nginx HTTP backend', () => httpAnswers(http)),
    );

    const ec = startPinned('UDP echo', cpu, [udptool, 'echo', String(echo)]);
    children.push(ec);
    await whileAlive(
      ec,
      poll('the UDP echo', () => /ready/.test(ec.output())),
    );
    return { iperf, http, hold, echo, holdServer, udptool, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
