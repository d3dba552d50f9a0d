/**
 * Driving a `tslvs lab` from tests: bring one up under a unique prefix, run commands in its namespaces,
 * query its director's admin API (from inside the director's namespace), always tear it down.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../../src/tools/exec.js';
import { labDown, labUp } from '../../src/tools/lab/control.js';
import { type LabState, labLeftovers } from '../../src/tools/lab/lab.js';
import type { LabMode, LabXdp } from '../../src/tools/lab/topology.js';

export function uniquePrefix(): string {
  return `t${randomBytes(3).toString('hex').slice(0, 5)}`;
}

export interface RunningLab {
  state: LabState;
  prefix: string;
  ns(role: string): string;
  /** argv inside a namespace; rejects on failure unless allowFailure. */
  exec(
    role: string,
    argv: string[],
    opts?: { allowFailure?: boolean; timeoutMs?: number; input?: string },
  ): ReturnType<typeof run>;
  /** GET/POST to the director's admin API, run inside the director's namespace. */
  api<T = unknown>(path: string, opts?: { method?: string; body?: unknown; director?: string }): Promise<T>;
  /** An eth0 counter inside a namespace, read over netlink (`ip -s`): rx/tx bytes/packets. */
  counter(role: string, name: 'rx_bytes' | 'rx_packets' | 'tx_bytes' | 'tx_packets'): Promise<number>;
}

export async function withRunningLab<T>(
  mode: LabMode,
  fn: (lab: RunningLab) => Promise<T>,
  /** `xdp`: the directors' fast path; off unless asked for, so that the pipeline sees every packet. */
  opts: { ha?: boolean; ipv6?: boolean; xdp?: LabXdp } = {},
): Promise<T> {
  const prefix = uniquePrefix();
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    const s: LabState = await labUp({
      prefix,
      mode,
      ha: opts.ha ?? false,
      ipv6: opts.ipv6 ?? false,
      xdp: opts.xdp ?? 'off',
    });
    const lab: RunningLab = {
      state: s,
      prefix,
      ns: (role) => `${prefix}-${role}`,
      exec: (role, argv, o = {}) =>
        run(['ip', 'netns', 'exec', `${prefix}-${role}`, ...argv], { timeoutMs: 60_000, ...o }),
      async api<R>(path: string, o: { method?: string; body?: unknown; director?: string } = {}) {
        const script = `const [url, method, token, body] = process.argv.slice(1);
fetch(url, { method, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: body || undefined })
  .then(async (r) => { const t = await r.text(); if (!r.ok) { console.error(r.status, t); process.exit(1); } console.log(t); })
  .catch((e) => { console.error(String(e)); process.exit(1); });`;
        const r = await run(
          [
            'ip',
            'netns',
            'exec',
            `${prefix}-${o.director ?? 'director'}`,
            process.execPath,
            '-e',
            script,
            `http://127.0.0.1:${s.topology.adminPort}${path}`,
            o.method ?? 'GET',
            s.token,
            o.body === undefined ? '' : JSON.stringify(o.body),
          ],
          { timeoutMs: 10_000 },
        );
        return JSON.parse(r.stdout) as R;
      },
      async counter(role, name) {
        // Not /sys: sysfs shows the namespace it was mounted in, which need not be this one.
        const r = await run(['ip', '-n', `${prefix}-${role}`, '-j', '-s', 'link', 'show', 'eth0']);
        const st = (
          JSON.parse(r.stdout) as Array<{ stats64: Record<'rx' | 'tx', { bytes: number; packets: number }> }>
        )[0]!.stats64;
        const [dir, what] = name.split('_') as ['rx' | 'tx', 'bytes' | 'packets'];
        return st[dir][what];
      },
    };
    outcome = { ok: true, value: await fn(lab) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const leftovers = await cleanUp(prefix);
  if (!outcome.ok) throw outcome.error;
  if (leftovers) throw new Error(leftovers);
  return outcome.value;
}

/** Tears the lab down; describes anything left behind, or returns null when clean. */
async function cleanUp(prefix: string): Promise<string | null> {
  const left = await labDown(prefix);
  const again = await labLeftovers(prefix);
  const n =
    left.namespaces.length +
    left.links.length +
    left.processes.length +
    again.namespaces.length +
    again.links.length;
  return n > 0 ? `lab ${prefix} left things behind: ${JSON.stringify({ left, again })}` : null;
}
