/**
 * The proxies under test, each configured as its users would for a single core and started pinned to the
 * proxy CPU: HAProxy (`mode tcp`, `nbthread 1`), nginx `stream` (one process, TCP and UDP), the naive
 * Node pipe() proxy and the tslvs daemon (`tslvs run`, socket data plane). Each forwards three TCP
 * frontends (iperf3, HTTP, idle) and, except HAProxy, one UDP frontend to the shared backends.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backends, HoldServer } from './backends.js';
import { type Child, freePort, HOST, httpAnswers, poll, startPinned, udpEchoes, whileAlive } from './proc.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const tslvsMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const naiveProxy = join(here, 'naive-proxy.js');
const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export const PEERS = ['haproxy', 'nginx', 'naive', 'tslvs'] as const;
export type PeerName = (typeof PEERS)[number];

export interface Fronts {
  iperf: number;
  http: number;
  idle: number;
  /** Null for a proxy without UDP (HAProxy). */
  udp: number | null;
}

export interface Peer {
  readonly name: PeerName;
  readonly pid: number;
  readonly fronts: Fronts;
  /** What the proxy printed lately (for a failure report). */
  output(): string;
  /** How the process ended, or null while it runs. */
  ended(): string | null;
  stop(): Promise<void>;
}

/** Connections each proxy must be able to hold: the idle-connection test plus headroom. */
export const MAX_CONNS = 9000;

interface Route {
  name: string;
  front: number;
  back: number;
}

function tcpRoutes(f: Fronts, b: Backends): Route[] {
  return [
    { name: 'iperf', front: f.iperf, back: b.iperf },
    { name: 'http', front: f.http, back: b.http },
    { name: 'idle', front: f.idle, back: b.hold },
  ];
}

function haproxyConfig(f: Fronts, b: Backends): string {
  const listens = tcpRoutes(f, b).map(
    (r) => `listen ${r.name}\n  bind ${HOST}:${r.front}\n  server s1 ${HOST}:${r.back}\n`,
  );
  return `global
  nbthread 1
  maxconn ${MAX_CONNS}

defaults
  mode tcp
  maxconn ${MAX_CONNS}
  timeout connect 5s
  timeout client 120s
  timeout server 120s

${listens.join('\n')}`;
}

function nginxStreamConfig(dir: string, f: Fronts, b: Backends): string {
  const servers = tcpRoutes(f, b).map(
    (r) => `  server { listen ${HOST}:${r.front} backlog=4096; proxy_pass ${HOST}:${r.back}; }`,
  );
  servers.push(`  server { listen ${HOST}:${f.udp} udp; proxy_pass ${HOST}:${b.echo}; }`);
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/stream.pid;
error_log ${dir}/stream-error.log warn;
load_module ${NGINX_STREAM_MODULE};
events { worker_connections ${2 * MAX_CONNS}; }
stream {
  proxy_timeout 120s;
${servers.join('\n')}
}
`;
}

function tslvsConfig(admin: number, f: Fronts, b: Backends): string {
  const service = (name: string, protocol: string, front: number | null, back: number) => `  - name: ${name}
    protocol: ${protocol}
    address: "${HOST}:${front}"
    scheduler: rr
    proxyProtocol: "off"
    health: { kind: none }
    realServers:
      - { address: "${HOST}:${back}", weight: 1 }`;
  return `admin: { listen: "${HOST}:${admin}", token: proxy-bench }
log: { level: warn }
dataplane: { kind: proxy }
services:
${tcpRoutes(f, b)
  .map((r) => service(r.name, 'tcp', r.front, r.back))
  .join('\n')}
${service('echo', 'udp', f.udp, b.echo)}
`;
}

function argvFor(name: PeerName, dir: string, f: Fronts, b: Backends, admin: number): string[] {
  switch (name) {
    case 'haproxy': {
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, haproxyConfig(f, b));
      // -db: foreground, no master process, so the pid we measure is the one doing the work.
      return ['haproxy', '-db', '-f', file];
    }
    case 'nginx': {
      const file = join(dir, 'stream.conf');
      writeFileSync(file, nginxStreamConfig(dir, f, b));
      return ['nginx', '-e', join(dir, 'stream-error.log'), '-p', dir, '-c', file];
    }
    case 'naive':
      return [
        process.execPath,
        naiveProxy,
        ...tcpRoutes(f, b).flatMap((r) => ['--tcp', `${r.front}:${r.back}`]),
        '--udp',
        `${f.udp}:${b.echo}`,
      ];
    case 'tslvs': {
      const file = join(dir, 'tslvs.yaml');
      writeFileSync(file, tslvsConfig(admin, f, b));
      return [process.execPath, tslvsMain, 'run', '-c', file, '--json', '--grace', '1s'];
    }
  }
}

/**
 * True once a connection through `port` reaches the hold server; the probe is closed (and the close seen
 * upstream) before returning, so the idle-connection test starts from zero.
 */
async function holds(port: number, hold: HoldServer): Promise<boolean> {
  const before = hold.open;
  const s = net.connect({ host: HOST, port });
  s.on('error', () => {});
  try {
    await poll('a probe connection to reach the hold server', () => s.destroyed || hold.open > before, 2000);
    return !s.destroyed;
  } catch {
    return false;
  } finally {
    s.end();
    await poll('the probe connection to close upstream', () => hold.open <= before, 5000);
  }
}

/** Starts `name` on `cpu` with fresh frontend ports; resolves once every frontend forwards. */
export async function startPeer(name: PeerName, dir: string, b: Backends, cpu: number): Promise<Peer> {
  const fronts: Fronts = {
    iperf: await freePort(),
    http: await freePort(),
    idle: await freePort(),
    udp: name === 'haproxy' ? null : await freePort(),
  };
  const child: Child = startPinned(name, cpu, argvFor(name, dir, fronts, b, await freePort()));
  const stop = () => child.stop();
  try {
    await whileAlive(
      child,
      (async () => {
        await poll(`${name} to answer HTTP`, () => httpAnswers(fronts.http));
        await poll(`${name} to forward to the hold server`, () => holds(fronts.idle, b.holdServer));
        if (fronts.udp !== null) await udpEchoes(fronts.udp);
      })(),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, pid: child.pid, fronts, output: child.output, ended: child.ended, stop };
}
