/**
 * Starting a real tslvs daemon in the test process, from YAML text, with real servers on 127.0.0.1.
 */
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/control/config/load.js';
import { Daemon } from '../../src/control/daemon.js';
import { silentLogger } from '../../src/control/logger.js';
import { parseEndpoint } from '../../src/engine/addr.js';

/** A TCP port that was free a moment ago (config needs a concrete port for each service). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen({ host, port: 0 }, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let seq = 0;

/** Writes `yaml` to a temp file and starts a daemon from it (admin API on an ephemeral port). */
export async function startDaemon(yaml: string): Promise<{ daemon: Daemon; file: string; admin: string }> {
  const file = join(tmpdir(), `tslvs-test-${process.pid}-${++seq}.yaml`);
  await writeFile(file, yaml);
  const { config } = await loadConfigFile(file, { env: {} });
  const daemon = await Daemon.start({
    config,
    configFile: file,
    logger: silentLogger(),
    env: {},
    adminListen: parseEndpoint('127.0.0.1:0', { allowZeroPort: true }),
  });
  const a = daemon.adminAddress!;
  return { daemon, file, admin: `http://127.0.0.1:${a.port}` };
}

/** One HTTP GET on a fresh connection (no keep-alive), optionally from a given local address. */
export function httpGet(url: string, localAddress?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout: GET ${url}`)));
  });
}

/** Polls `cond` until it is true (bounded); for state that changes on timers we do not own. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The backend name from an echo-server answer ("backend-2 127.0.0.1:5555"). */
export function who(body: string): string {
  return body.split(' ')[0]!;
}
