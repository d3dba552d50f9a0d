/**
 * A VRRP lab for namespace tests: routers `a` and `b` (and a `client`) on one bridge in a `sw` namespace,
 * tslvs daemons or keepalived inside them, and helpers that wait on their log lines (never on time).
 *
 *   client 10.9.0.9 ──┐
 *   a      10.9.0.1 ──┼── br0 (ns sw)      VIP 10.9.0.100/24
 *   b      10.9.0.2 ──┘
 */
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createLab, type Lab, type NsProcess } from '../helpers/netns.js';
import { repoRoot } from '../helpers/paths.js';

export const VIP = '10.9.0.100';
export const VIP6 = '2001:db8:9::100';
export const ADDR = { a: '10.9.0.1', b: '10.9.0.2', client: '10.9.0.9' } as const;
export const ADDR6 = { a: '2001:db8:9::1', b: '2001:db8:9::2', client: '2001:db8:9::9' } as const;
export type Router = 'a' | 'b';

/** Lines of a stream, with a wait that wakes on new lines (bounded by a timeout). */
export class LineLog {
  readonly lines: string[] = [];
  #partial = '';
  #waiters = new Set<() => void>();
  #ended = false;

  constructor(stream: Readable) {
    stream.on('data', (d: Buffer | string) => {
      this.#partial += d.toString();
      const parts = this.#partial.split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.#waiters) w();
    });
    stream.on('close', () => {
      this.#ended = true;
      for (const w of this.#waiters) w();
    });
  }

  /** The first line at index >= `from` matching, as soon as it exists. */
  wait(
    match: RegExp | ((line: string) => boolean),
    timeoutMs: number,
    from = 0,
  ): Promise<{ line: string; index: number }> {
    const test = typeof match === 'function' ? match : (l: string) => match.test(l);
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          if (test(this.lines[i]!)) return done(() => resolve({ line: this.lines[i]!, index: i }));
        }
        if (this.#ended)
          done(() => reject(new Error(`stream ended before ${match}; last lines:\n${this.tail()}`)));
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(`timed out after ${timeoutMs}ms waiting for ${match}; last lines:\n${this.tail()}`),
            ),
          ),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      this.#waiters.add(check);
      check();
    });
  }

  tail(n = 15): string {
    return this.lines.slice(-n).join('\n');
  }
}

export interface Daemon {
  proc: NsProcess;
  log: LineLog;
  /** For tslvs: JSON log records. */
  records(): Record<string, unknown>[];
}

export interface HaLab {
  lab: Lab;
  ns: { a: string; b: string; client: string; sw: string };
  dir: string;
  /** Bridge port of each router (in `sw`), to cut and restore its link. */
  port: Record<Router, string>;
  startTslvs(router: Router, yaml: string): Daemon;
  startKeepalived(router: Router, conf: string): Daemon;
  /** The VIP (VIP, or VIP6 for family 6) if present on the router's eth0. */
  addresses(router: Router, family?: 4 | 6): Promise<string[]>;
  mac(router: Router): Promise<string>;
  /** The client's neighbour entry for the VIP (MAC), or null. */
  clientNeighbour(): Promise<string | null>;
  /** GET on the router's admin API from inside its namespace. */
  api(router: Router, path: string): Promise<unknown>;
  cut(router: Router): Promise<void>;
  restore(router: Router): Promise<void>;
  cleanup(): Promise<void>;
}

export function keepalivedPath(): string | null {
  for (const p of ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived', '/sbin/keepalived'])
    if (existsSync(p)) return p;
  return null;
}

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** `ipv6`: namespaces with IPv6 on (no DAD, so link-local addresses are usable at once) and v6 addresses. */
export async function createHaLab(opts: { ipv6?: boolean } = {}): Promise<HaLab> {
  const lab = createLab();
  const dir = await mkdtemp(join(tmpdir(), 'tslvs-ha-'));
  try {
    const ipv6 = opts.ipv6 ?? false;
    const sw = await lab.addNs('sw');
    const a = await lab.addNs('a', { ipv6 });
    const b = await lab.addNs('b', { ipv6 });
    const client = await lab.addNs('client', { ipv6 });
    if (ipv6) {
      for (const ns of [a, b, client]) {
        await lab.sysctl(ns, 'net.ipv6.conf.default.accept_dad', 0);
        await lab.sysctl(ns, 'net.ipv6.conf.all.accept_dad', 0);
      }
    }
    await lab.addBridge(sw, 'br0');
    const ends: [string, string, string, string][] = [
      [a, 'pa', `${ADDR.a}/24`, `${ADDR6.a}/64`],
      [b, 'pb', `${ADDR.b}/24`, `${ADDR6.b}/64`],
      [client, 'pc', `${ADDR.client}/24`, `${ADDR6.client}/64`],
    ];
    for (const [ns, port, addr, addr6] of ends) {
      const addresses = ipv6 ? [addr, addr6] : [addr];
      await lab.addVeth({ ns, name: 'eth0', addresses }, { ns: sw, name: port });
      await lab.ip(sw, ['link', 'set', port, 'master', 'br0']);
    }
    // Proxy mode on a backup listens on the VIP before holding it (see docs/ha.md).
    for (const ns of [a, b]) await lab.sysctl(ns, 'net.ipv4.ip_nonlocal_bind', 1);
    const nsOf = { a, b };
    const daemon = (proc: NsProcess, stream: Readable): Daemon => {
      const log = new LineLog(stream);
      return {
        proc,
        log,
        records: () =>
          log.lines.flatMap((l) => {
            try {
              return [JSON.parse(l) as Record<string, unknown>];
            } catch {
              return [];
            }
          }),
      };
    };
    let files = 0;
    const haLab: HaLab = {
      lab,
      ns: { a, b, client, sw },
      dir,
      port: { a: 'pa', b: 'pb' },
      startTslvs(router, yaml) {
        const file = join(dir, `tslvs-${router}-${files++}.yaml`);
        // Written synchronously before spawn so the daemon never reads a partial file.
        writeFileSyncSafe(file, yaml);
        const proc = lab.spawn(nsOf[router], [
          process.execPath,
          CLI,
          'run',
          '-c',
          file,
          '--json',
          '--grace',
          '1s',
        ]);
        return daemon(proc, proc.child.stdout!);
      },
      startKeepalived(router, conf) {
        const n = files++;
        const file = join(dir, `keepalived-${router}-${n}.conf`);
        writeFileSyncSafe(file, conf);
        const bin = keepalivedPath() ?? 'keepalived';
        const proc = lab.spawn(nsOf[router], [
          bin,
          '--dont-fork',
          '--log-console',
          '--log-detail',
          '--vrrp',
          '--use-file',
          file,
          '--pid',
          join(dir, `ka-${n}.pid`),
          '--vrrp_pid',
          join(dir, `ka-vrrp-${n}.pid`),
        ]);
        return daemon(proc, proc.child.stderr!);
      },
      async addresses(router, family = 4) {
        const r = await lab.ip(nsOf[router], ['-j', `-${family}`, 'addr', 'show', 'dev', 'eth0']);
        const info = JSON.parse(r.stdout) as { addr_info: { local: string }[] }[];
        const vip = family === 4 ? VIP : VIP6;
        return info.flatMap((i) => i.addr_info.map((x) => x.local)).filter((x) => x === vip);
      },
      async mac(router) {
        const r = await lab.ip(nsOf[router], ['-j', 'link', 'show', 'dev', 'eth0']);
        return (JSON.parse(r.stdout) as { address: string }[])[0]!.address;
      },
      async clientNeighbour() {
        const r = await lab.ip(client, ['-j', 'neigh', 'show', VIP, 'dev', 'eth0']);
        const n = JSON.parse(r.stdout || '[]') as { lladdr?: string }[];
        return n[0]?.lladdr ?? null;
      },
      async api(router, path) {
        const script = `fetch('http://127.0.0.1:9090${path}').then((r) => r.text()).then((t) => process.stdout.write(t))`;
        const r = await lab.exec(nsOf[router], [process.execPath, '-e', script]);
        return JSON.parse(r.stdout);
      },
      async cut(router) {
        await lab.ip(sw, ['link', 'set', haLab.port[router], 'nomaster']);
      },
      async restore(router) {
        await lab.ip(sw, ['link', 'set', haLab.port[router], 'master', 'br0']);
      },
      async cleanup() {
        try {
          await lab.cleanup();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
    return haLab;
  } catch (err) {
    await lab.cleanup().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function writeFileSyncSafe(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
}

/** tslvs YAML for one VRRP instance on eth0 (plus optional extra top-level YAML). */
export function tslvsConfig(opts: {
  priority: number;
  version: 2 | 3;
  advertInterval: string;
  authPass?: string;
  unicastPeers?: string[];
  extraInstance?: string;
  extraTop?: string;
  /** Default VIP/24. */
  vip?: string;
}): string {
  const lines = [
    'log: { level: info }',
    'ha:',
    '  vrrp:',
    '    - name: VI_1',
    '      interface: eth0',
    '      virtualRouterId: 51',
    `      priority: ${opts.priority}`,
    `      version: ${opts.version}`,
    `      advertInterval: ${opts.advertInterval}`,
    `      virtualAddresses: [${opts.vip ?? `${VIP}/24`}]`,
    '      garp: { repeat: 2, delay: 1s }',
  ];
  if (opts.authPass) lines.push(`      authPass: ${opts.authPass}`);
  if (opts.unicastPeers) lines.push(`      unicastPeers: [${opts.unicastPeers.join(', ')}]`);
  if (opts.extraInstance) lines.push(opts.extraInstance);
  if (opts.extraTop) lines.push(opts.extraTop);
  return `${lines.join('\n')}\n`;
}

/** keepalived.conf for the same instance. */
export function keepalivedConfig(opts: {
  priority: number;
  version: 2 | 3;
  advertInterval: number;
  authPass?: string;
  unicast?: { src: string; peers: string[] };
  /** Default VIP/24. */
  vip?: string;
}): string {
  const auth = opts.authPass
    ? `    authentication {\n        auth_type PASS\n        auth_pass ${opts.authPass}\n    }\n`
    : '';
  const unicast = opts.unicast
    ? `    unicast_src_ip ${opts.unicast.src}\n    unicast_peer {\n${opts.unicast.peers.map((p) => `        ${p}\n`).join('')}    }\n`
    : '';
  return `global_defs {
    router_id tslvs_interop
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version ${opts.version}
    priority ${opts.priority}
    advert_int ${opts.advertInterval}
${auth}${unicast}    virtual_ipaddress {
        ${opts.vip ?? `${VIP}/24`}
    }
}
`;
}

/** A tslvs transition log record (`to` state), as written by src/ha/instance.ts. */
export function isTransition(line: string, to: string, reason?: string): boolean {
  try {
    const r = JSON.parse(line) as { msg?: string; to?: string; reason?: string };
    return (
      typeof r.msg === 'string' &&
      r.msg.startsWith('VRRP ') &&
      r.to === to &&
      (reason === undefined || r.reason === reason)
    );
  } catch {
    return false;
  }
}

export function timeOf(line: string): number {
  return (JSON.parse(line) as { time: number }).time;
}
