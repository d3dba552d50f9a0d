/** Helpers for the health tests: bounded condition waits, process liveness, spec builders. */
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { parseIp } from '../../src/engine/addr.js';
import type { HealthTarget } from '../../src/health/checker.js';

export const BASE = Object.freeze({ intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 3 });

export function loopback(port: number, host = '127.0.0.1'): HealthTarget {
  return { address: parseIp(host), port };
}

export function portOf(server: { address(): AddressInfo | string | null }): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('server is not listening on a port');
  return a.port;
}

export function listen(server: Server, host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(portOf(server));
    });
  });
}

/** Closes a server; an HTTP server's open connections are cut so a leaking checker cannot hang a test. */
export function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections?.();
  return closed;
}

/** Polls `cond` until it holds; fails after `timeoutMs` (a bounded wait on a condition, not a sleep). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True while `pid` exists and is not a zombie (a zombie has been killed; only its reaping is pending). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Counts of active libuv resources by type ('TCPSocketWrap', 'UDPWrap', 'Timeout', 'ProcessWrap'...). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Waits until no resource of `types` is active beyond `baseline` (closing handles go away async). */
export async function assertNoLeak(baseline: Map<string, number>, types: string[]): Promise<void> {
  const excess = () =>
    types.filter((t) => (activeResources().get(t) ?? 0) > (baseline.get(t) ?? 0)).map((t) => t);
  await waitFor(() => excess().length === 0, `no leaked ${types.join('/')}`).catch(() => {
    throw new Error(`leaked resources: ${excess().join(', ')} (${JSON.stringify([...activeResources()])})`);
  });
}

export function signal(): AbortSignal {
  return new AbortController().signal;
}
