/**
 * `lab up / status / down` on top of the topology (topology.ts), the builder (lab.ts) and the director
 * config (director-config.ts). Processes started inside the namespaces are detached and logged to the
 * lab's directory; their pids are kept in the state file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { run } from '../exec.js';
import { directorConfig } from './director-config.js';
import {
  buildTopology,
  type LabState,
  type Leftovers,
  labDir,
  labLeftovers,
  readLabState,
  spawnInNs,
  teardown,
  writeLabState,
} from './lab.js';
import { type LabMode, type LabXdp, labTopology } from './topology.js';

/** The CLI entry point, to run tslvs commands inside the namespaces. */
export const cliMain = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

/** Waits for `pattern` in `file` past byte `from` (logs are appended to across restarts). */
async function waitForLog(
  file: string,
  pattern: RegExp,
  pid: number,
  timeoutMs: number,
  from = 0,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file).subarray(from).toString('utf8') : '';
    if (pattern.test(text)) return;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || Date.now() > deadline) {
      const tail = text.split('\n').slice(-15).join('\n');
      throw new TslvsError(
        ErrorCodes.ENVIRONMENT,
        `${alive ? 'timed out waiting' : 'process exited'} for ${pattern} in ${file}:\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function labUp(o: {
  prefix: string;
  mode: LabMode;
  ha: boolean;
  ipv6?: boolean;
  /** The directors' XDP fast path (default `auto`: the daemon's default, generic on veth). */
  xdp?: LabXdp;
}): Promise<LabState> {
  const ipv6 = o.ipv6 ?? false;
  if (ipv6 && o.ha && o.mode === 'nat') {
    throw new TslvsError(
      ErrorCodes.USAGE,
      "--ipv6 with --ha is not available in nat mode (the real servers' IPv6 gateway would need a VRRP address of its own)",
    );
  }
  const existing = readLabState(o.prefix);
  if (existing) {
    throw new TslvsError(
      ErrorCodes.ENVIRONMENT,
      `lab ${o.prefix} is already up (mode ${existing.topology.mode}); run 'tslvs lab down --prefix ${o.prefix}' first`,
    );
  }
  const left = await labLeftovers(o.prefix);
  if (left.namespaces.length + left.links.length > 0) {
    throw new TslvsError(
      ErrorCodes.ENVIRONMENT,
      `namespaces or links with prefix '${o.prefix}' already exist (${[...left.namespaces, ...left.links].join(', ')}); run 'tslvs lab down --prefix ${o.prefix}'`,
    );
  }
  const t = labTopology(o.prefix, o.mode, o.ha, ipv6, o.xdp ?? 'auto');
  const dir = labDir(o.prefix);
  mkdirSync(dir, { recursive: true });
  const state: LabState = {
    topology: t,
    dir,
    token: randomBytes(8).toString('hex'),
    processes: [],
    createdAt: new Date().toISOString(),
  };
  writeLabState(state);
  const start = (role: string, what: string, argv: string[]) => startInLab(state, role, what, argv);
  try {
    await buildTopology(t);
    for (const rs of t.realServers) {
      const listen = ipv6 ? ['--listen', '::'] : [];
      const p = start(rs.role, 'testserver', ['testserver', '--name', rs.role, ...listen]);
      await waitForLog(p.log, /listening/, p.pid, 15_000);
      const ns = `${o.prefix}-${rs.role}`;
      const rsState = join(dir, `${rs.role}-realserver.json`);
      if (o.mode === 'dr') {
        await run([
          'ip',
          'netns',
          'exec',
          ns,
          process.execPath,
          cliMain,
          'realserver',
          '--vip',
          t.vip,
          ...(t.vip6 ? ['--vip', t.vip6] : []),
          '--state',
          rsState,
        ]);
      } else if (o.mode === 'tun') {
        // The directors' addresses on the real servers' segment (and their IPv6 twins): the outer sources.
        const onRsSegment = (a: string) => a.startsWith('10.10.1.') || a.startsWith('fd10:1::');
        const directors = t.hosts
          .filter((h) => h.role.startsWith('director'))
          .flatMap((h) => h.links[0]!.addresses.filter(onRsSegment).map((a) => a.split('/')[0]!));
        const args = [
          'realserver',
          '--vip',
          t.vip,
          ...(t.vip6 ? ['--vip', t.vip6] : []),
          '--tunnel',
          '--state',
          rsState,
          ...directors.flatMap((d) => ['--director', d]),
        ];
        const d = start(rs.role, 'realserver', args);
        await waitForLog(d.log, /real server ready/, d.pid, 15_000);
      }
    }
    const directors = t.hosts.filter((h) => h.role.startsWith('director'));
    // Session sync between the directors' second addresses (the real servers' segment), one key per lab.
    const syncKey = randomBytes(24).toString('hex');
    const syncAddr = (h: (typeof directors)[number]) => h.links[0]!.addresses[1]!.split('/')[0]!;
    for (const [i, h] of directors.entries()) {
      const file = join(dir, `${h.role}.yaml`);
      const ha = t.ha
        ? {
            vrrpPriority: i === 0 ? 150 : 100,
            sync: {
              address: syncAddr(h),
              peers: directors.filter((d) => d !== h).map(syncAddr),
              key: syncKey,
            },
          }
        : {};
      writeFileSync(file, directorConfig(t, state.token, ha));
    }
    // Started together, as a pair of directors usually is; each waits briefly for the other's snapshot.
    const started = directors.map((h) => startDirectorProcess(state, h.role));
    for (const p of started) await waitForLog(p.log, /tslvs started/, p.pid, 30_000);
    return state;
  } catch (err) {
    await teardown(o.prefix, t);
    throw err;
  }
}

function startInLab(
  state: LabState,
  role: string,
  what: string,
  argv: string[],
): LabState['processes'][number] {
  const log = join(state.dir, `${role}-${what}.log`);
  const child = spawnInNs(`${state.topology.prefix}-${role}`, [process.execPath, cliMain, ...argv], log);
  state.processes.push({ role, what, pid: child.pid ?? -1, log });
  writeLabState(state);
  return state.processes.at(-1)!;
}

function startDirectorProcess(state: LabState, role: string): LabState['processes'][number] {
  return startInLab(state, role, 'director', ['run', '-c', join(state.dir, `${role}.yaml`), '--json']);
}

/**
 * (Re)starts a lab director (after it was stopped or killed) with its config; resolves once it runs
 * (with --ha: after its session snapshot, before VRRP may make it master). Returns its process entry.
 */
export async function labStartDirector(prefix: string, role: string): Promise<LabState['processes'][number]> {
  const state = readLabState(prefix);
  if (!state) throw new TslvsError(ErrorCodes.ENVIRONMENT, `lab ${prefix} is not up`);
  if (!state.topology.hosts.some((h) => h.role === role && role.startsWith('director')))
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `lab ${prefix} has no director named '${role}'`);
  const log = join(state.dir, `${role}-director.log`);
  const from = existsSync(log) ? statSync(log).size : 0;
  const p = startDirectorProcess(state, role);
  await waitForLog(p.log, /tslvs started/, p.pid, 30_000, from);
  return p;
}

export interface LabStatus {
  up: boolean;
  prefix: string;
  mode?: LabMode;
  ha?: boolean;
  vip?: string;
  /** The IPv6 VIP of a dual-stack lab (--ipv6), else null. */
  vip6?: string | null;
  ports?: { tcp: number; udp: number };
  namespaces: Record<string, string>;
  addresses: Record<string, string[]>;
  localAddresses?: string[];
  realServers?: Array<{ role: string; address: string }>;
  admin?: { url: string; token: string; namespace: string };
  /** The director currently holding the VIP (the only one without --ha). */
  master: string | null;
  processes: Array<{ role: string; what: string; pid: number; alive: boolean; log: string }>;
}

async function haState(ns: string, port: number, token: string): Promise<string | null> {
  const script = `fetch('http://127.0.0.1:${port}/v1/ha',{headers:{authorization:'Bearer '+process.argv[1]}}).then(r=>r.json()).then(j=>console.log(JSON.stringify(j))).catch(()=>console.log('null'))`;
  const r = await run(['ip', 'netns', 'exec', ns, process.execPath, '-e', script, token], {
    allowFailure: true,
    timeoutMs: 5000,
  });
  try {
    const j = JSON.parse(r.stdout.trim()) as { instances?: Array<{ state: string }> } | null;
    return j?.instances?.[0]?.state ?? null;
  } catch {
    return null;
  }
}

export async function labStatus(prefix: string): Promise<LabStatus> {
  const s = readLabState(prefix);
  if (!s) return { up: false, prefix, namespaces: {}, addresses: {}, master: null, processes: [] };
  const t = s.topology;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  let master: string | null = t.hosts.find((h) => h.role === 'director') ? 'director' : null;
  if (t.ha) {
    master = null;
    for (const h of t.hosts.filter((x) => x.role.startsWith('director'))) {
      if ((await haState(h.ns, t.adminPort, s.token))?.toLowerCase() === 'master') master = h.role;
    }
  }
  const addresses: Record<string, string[]> = {};
  for (const h of t.hosts)
    addresses[h.role] = h.links.flatMap((l) => l.addresses.map((a) => a.split('/')[0]!));
  return {
    up: true,
    prefix,
    mode: t.mode,
    ha: t.ha,
    vip: t.vip,
    vip6: t.vip6 ?? null,
    ports: t.ports,
    namespaces: Object.fromEntries(t.hosts.map((h) => [h.role, h.ns])),
    addresses,
    localAddresses: t.localAddresses,
    realServers: t.realServers,
    admin: { url: `http://127.0.0.1:${t.adminPort}`, token: s.token, namespace: `${prefix}-director` },
    master,
    processes: s.processes.map((p) => ({ ...p, alive: alive(p.pid) })),
  };
}

export async function labDown(prefix: string): Promise<Leftovers> {
  const s = readLabState(prefix);
  return teardown(prefix, s?.topology ?? null);
}
