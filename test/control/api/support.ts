/**
 * An in-process daemon on loopback for admin API, metrics and `tslvs adm` tests: the config is YAML text
 * with `{P0}`, `{P1}`... standing for free ports, the admin API listens on port 0, logs are silent.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { parseConfigText } from '../../../src/control/config/load.js';
import { Daemon } from '../../../src/control/daemon.js';
import { silentLogger } from '../../../src/control/logger.js';

export const TOKEN = 'test-token-0123456789';

/** A port free for both TCP and UDP on `host`; ephemeral ports are 5 digits on Linux (32768-60999). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => (udpOk ? udp.close(() => resolve()) : resolve()));
    if (udpOk && port >= 10000) return port;
  }
  throw new Error('no free port found');
}

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  ports: number[];
  close(): Promise<void>;
}

/** Starts a daemon from YAML; `{Pn}` are replaced by free ports (n < portCount). */
export async function startDaemon(
  yaml: string,
  opts: { portCount?: number; token?: string | null } = {},
): Promise<TestDaemon> {
  const ports: number[] = [];
  for (let i = 0; i < (opts.portCount ?? 4); i++) ports.push(await freePort());
  const token = opts.token === undefined ? TOKEN : opts.token;
  const text = yaml.replace(/\{P(\d+)\}/g, (_m, i: string) => String(ports[Number(i)]));
  const admin = token === null ? '' : `admin: { token: "${token}" }\n`;
  const { config } = parseConfigText(admin + text, 'test config', {
    env: {},
    readSecretFile: () => {
      throw new Error('no secret files in tests');
    },
  });
  const daemon = await Daemon.start({
    config,
    configFile: null,
    logger: silentLogger(),
    env: {},
    adminListen: { addr: { family: 4, words: [0x7f000001, 0, 0, 0] }, port: 0 },
  });
  const url = `http://127.0.0.1:${daemon.adminAddress!.port}`;
  return { daemon, url, ports, close: () => daemon.stop(0) };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  json: any;
}

/** One HTTP request to the admin API; `token: null` sends no Authorization header. */
export async function api(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string | null; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown = null;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls `check` until it returns a value (not undefined/false) or `timeoutMs` passes; then throws. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Opens a TCP connection and resolves once it is established. */
export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host }, () => resolve(s));
    s.once('error', reject);
  });
}

/** One HTTP GET through a TCP service; resolves with the body. */
export async function httpGet(port: number, path = '/'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return res.text();
}
