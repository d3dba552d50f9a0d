/**
 * `lab run`: brings a lab up (unless one is), sends a few HTTP requests and a UDP datagram from the client
 * to the VIP while tcpdump watches every namespace's eth0, then prints one line per packet, in time order,
 * naming where it was seen: the path each packet took in this mode (through the director both ways for
 * NAT/FNAT; straight back from the real server for DR/TUN).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { run } from '../exec.js';
import { labDown, labUp } from './control.js';
import { readLabState } from './lab.js';
import type { LabMode } from './topology.js';

interface Seen {
  t: number;
  where: string;
  text: string;
}

export async function traceLab(o: { prefix: string; mode: LabMode }): Promise<string[]> {
  let state = readLabState(o.prefix);
  const created = !state;
  if (state && state.topology.mode !== o.mode) {
    throw new Error(
      `lab ${o.prefix} is up in mode ${state.topology.mode}; run 'tslvs lab down' first or use --mode ${state.topology.mode}`,
    );
  }
  state ??= await labUp({ prefix: o.prefix, mode: o.mode, ha: false });
  const t = state.topology;
  const seen: Seen[] = [];
  const dumps: ChildProcess[] = [];
  // Only the client's traffic (and what the director makes of it: tunnelled or from a local address);
  // health checks from the director's own address would drown it.
  const hosts = ['10.10.0.2', ...t.localAddresses].map((a) => `host ${a}`).join(' or ');
  const filter = `(${hosts} or ip proto 4) and (tcp port ${t.ports.tcp} or udp port ${t.ports.udp} or ip proto 4)`;
  const readies: Promise<void>[] = [];
  for (const h of t.hosts) {
    const p = spawn(
      'ip',
      [
        'netns',
        'exec',
        h.ns,
        'tcpdump',
        '-i',
        'eth0',
        '-n',
        '-tt',
        '-l',
        '--immediate-mode',
        '-Q',
        'in',
        filter,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    dumps.push(p);
    readies.push(
      new Promise((resolve) => {
        p.stderr!.on('data', (d: Buffer) => {
          if (/listening on/.test(d.toString())) resolve();
        });
        p.on('exit', () => resolve());
      }),
    );
    let partial = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /^(\d+\.\d+) (.*)$/.exec(line);
        if (m)
          seen.push({
            t: Number(m[1]),
            where: h.role,
            text: m[2]!.replace(/, options \[[^\]]*\]/, '').replace(/, win \d+/, ''),
          });
      }
    });
  }
  await Promise.all(readies);
  const out: string[] = [
    `mode ${t.mode}: packets as received on each namespace's eth0 (tcpdump), in time order`,
  ];
  try {
    for (let i = 0; i < 3; i++) {
      const r = await run(
        [
          'ip',
          'netns',
          'exec',
          `${o.prefix}-client`,
          'curl',
          '-s',
          '-m',
          '3',
          `http://${t.vip}:${t.ports.tcp}/`,
        ],
        { allowFailure: true },
      );
      out.push(`curl #${i + 1}: ${r.code === 0 ? r.stdout.trim() : `failed (${r.stderr.trim() || r.code})`}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    for (const d of dumps) d.kill('SIGINT');
    await Promise.all(
      dumps.map((d) => new Promise((r) => (d.exitCode !== null ? r(null) : d.once('exit', r)))),
    );
    if (created) await labDown(o.prefix);
  }
  const t0 = seen.length ? Math.min(...seen.map((s) => s.t)) : 0;
  for (const s of seen.sort((a, b) => a.t - b.t))
    out.push(`${((s.t - t0) * 1000).toFixed(3).padStart(9)} ms  at ${s.where.padEnd(9)} ${s.text}`);
  return out;
}
