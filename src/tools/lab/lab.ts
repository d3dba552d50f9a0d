/**
 * Builds and tears down the namespace lab (topology.ts) and keeps its state in a file, so `lab up`,
 * `lab status` and `lab down` can be separate commands. Every name carries the prefix; `down` removes
 * exactly what `up` created (namespaces, the bridges and veths in the root namespace, the processes running
 * inside the namespaces) and checks that nothing is left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, writeSysctl } from '../exec.js';
import type { LabTopology } from './topology.js';

export interface LabProcess {
  role: string;
  what: string;
  pid: number;
  log: string;
}

export interface LabState {
  topology: LabTopology;
  dir: string;
  token: string;
  processes: LabProcess[];
  createdAt: string;
}

export function labDir(prefix: string): string {
  return join(process.env.TSLVS_LAB_DIR ?? '/run/tslvs', `lab-${prefix}`);
}

export function readLabState(prefix: string): LabState | null {
  try {
    return JSON.parse(readFileSync(join(labDir(prefix), 'state.json'), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function writeLabState(state: LabState): void {
  mkdirSync(state.dir, { recursive: true });
  writeFileSync(join(state.dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

const ip = (ns: string | null, args: string[]) =>
  run(ns === null ? ['ip', ...args] : ['ip', '-n', ns, ...args]);

/** Creates namespaces, bridges, veths, addresses and routes. */
export async function buildTopology(t: LabTopology): Promise<void> {
  for (const br of t.bridges) {
    // No multicast snooping: the director answers neighbour solicitations for the IPv6 VIP in user space,
    // for a solicited-node group its kernel never joined.
    await ip(null, ['link', 'add', br, 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(null, ['link', 'set', br, 'up']);
  }
  let n = 0;
  for (const h of t.hosts) {
    await run(['ip', 'netns', 'add', h.ns]);
    await ip(h.ns, ['link', 'set', 'lo', 'up']);
    if (t.ipv6) {
      // Static addresses only: no duplicate detection delay, no autoconfiguration from stray adverts.
      for (const scope of ['all', 'default']) {
        await writeSysctl(`net.ipv6.conf.${scope}.accept_dad`, 0, h.ns);
        await writeSysctl(`net.ipv6.conf.${scope}.accept_ra`, 0, h.ns);
      }
    } else {
      // IPv6 off: no router solicitations or DAD noise in traces and frame counts.
      await writeSysctl('net.ipv6.conf.all.disable_ipv6', 1, h.ns);
      await writeSysctl('net.ipv6.conf.default.disable_ipv6', 1, h.ns);
    }
    for (const l of h.links) {
      const outer = `${t.prefix}-v${n++}`;
      const inner = `${t.prefix}-i${n}`;
      await ip(null, ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      await ip(null, ['link', 'set', inner, 'netns', h.ns]);
      await ip(h.ns, ['link', 'set', inner, 'name', l.name]);
      await ip(null, ['link', 'set', outer, 'master', l.bridge]);
      await writeSysctl(`net/ipv6/conf/${outer}/disable_ipv6`, 1).catch(() => undefined);
      await ip(null, ['link', 'set', outer, 'up']);
      for (const a of l.addresses)
        await ip(h.ns, ['addr', 'add', a, 'dev', l.name, ...(a.includes(':') ? ['nodad'] : [])]);
      await ip(h.ns, ['link', 'set', l.name, 'up']);
    }
    if (h.gateway) await ip(h.ns, ['route', 'add', 'default', 'via', h.gateway]);
    if (h.gateway6) await ip(h.ns, ['-6', 'route', 'add', 'default', 'via', h.gateway6]);
    for (const r of h.routes) await ip(h.ns, ['route', 'add', r.prefix, 'via', r.via]);
    if (h.role === 'router') {
      await writeSysctl('net.ipv4.ip_forward', 1, h.ns);
      if (t.ipv6) await writeSysctl('net.ipv6.conf.all.forwarding', 1, h.ns);
    }
  }
}

/** Starts `argv` inside `ns`, detached, logging to `log`; returns its pid. */
export function spawnInNs(
  ns: string,
  argv: string[],
  log: string,
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const fd = openSync(log, 'a');
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  child.unref();
  return child;
}

async function pidsIn(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns], { allowFailure: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process in the lab's namespaces (TERM, then KILL), whether we started it or not. */
export async function stopLabProcesses(t: LabTopology, graceMs = 3000): Promise<void> {
  const pids = (await Promise.all(t.hosts.map((h) => pidsIn(h.ns)))).flat();
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const p of pids.filter(alive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

export interface Leftovers {
  namespaces: string[];
  links: string[];
  processes: number[];
}

export async function labLeftovers(prefix: string): Promise<Leftovers> {
  const ns = await run(['ip', '-j', 'netns', 'list'], { allowFailure: true });
  const links = await run(['ip', '-j', 'link', 'show'], { allowFailure: true });
  const parse = <T>(s: string): T[] => {
    try {
      return s.trim() ? (JSON.parse(s) as T[]) : [];
    } catch {
      return [];
    }
  };
  const namespaces = parse<{ name: string }>(ns.stdout)
    .map((n) => n.name)
    .filter((n) => n.startsWith(`${prefix}-`));
  const processes = (await Promise.all(namespaces.map(pidsIn))).flat();
  return {
    namespaces,
    links: parse<{ ifname: string }>(links.stdout)
      .map((l) => l.ifname)
      .filter((n) => n.startsWith(`${prefix}-`)),
    processes,
  };
}

/** Removes everything carrying the prefix; returns what could not be removed (empty when clean). */
export async function teardown(prefix: string, topology: LabTopology | null): Promise<Leftovers> {
  if (topology) await stopLabProcesses(topology);
  let left = await labLeftovers(prefix);
  for (const p of left.processes) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  for (const ns of left.namespaces) await run(['ip', 'netns', 'del', ns], { allowFailure: true });
  for (const l of left.links) await run(['ip', 'link', 'del', l], { allowFailure: true });
  const deadline = Date.now() + 3000;
  do {
    left = await labLeftovers(prefix);
    if (left.namespaces.length + left.links.length + left.processes.length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  rmSync(labDir(prefix), { recursive: true, force: true });
  return left;
}
