import { spawnSync } from 'node:child_process';

/** Why a test that needs root/namespaces cannot run here, or null when it can. */
export function rootSkipReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot use network namespaces: ${r.stderr.trim() || 'ip netns failed'}`;
  return null;
}

/** Why a test that needs the given program cannot run here, or null when it can. */
export function programSkipReason(program: string): string | null {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { encoding: 'utf8' });
  return r.status === 0 ? null : `${program} is not installed`;
}
