/**
 * Preparing a host as a DR or TUN real server, and undoing it:
 *   - the VIP on the loopback device (the RS must accept packets for it as its own),
 *   - arp_ignore=1 / arp_announce=2 so it never answers or advertises ARP for the VIP (only the director
 *     may, or the LAN would send clients straight to one RS),
 *   - TUN: an IP-in-IP device. With the kernel's `ipip` module, its `tunl0`; without (this kernel, and many
 *     container hosts), a TUN device fed by tslvs's user-space decapsulation, running until stopped.
 * Previous sysctl values are saved and restored by `--down`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIp, type IpAddress } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import { readSysctl, run, writeSysctl } from './exec.js';

export interface RealServerOptions {
  vips: IpAddress[];
  tunnel: boolean;
  /** Name of the user-space decapsulation TUN device. */
  tunName: string;
  /** Where the saved state lives (per network namespace: the default path includes nothing host-wide). */
  stateFile: string;
}

interface SavedState {
  vips: string[];
  sysctls: Record<string, string>;
  kernelTunnel: boolean;
  tunName: string | null;
}

export function defaultStateFile(): string {
  return join(process.env.TSLVS_STATE_DIR ?? '/run/tslvs', 'realserver.json');
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new TslvsError(
      ErrorCodes.ENVIRONMENT,
      'tslvs realserver changes addresses and sysctls: run it as root',
    );
  }
}

/** Whether the kernel can do IP-in-IP itself (module loaded or loadable). */
export async function kernelHasIpip(): Promise<boolean> {
  if (existsSync('/sys/module/ipip')) return true;
  const r = await run(['modprobe', '-q', 'ipip'], { allowFailure: true }).catch(() => null);
  return r?.code === 0 && existsSync('/sys/module/ipip');
}

async function addVip(a: IpAddress): Promise<void> {
  const plen = a.family === 4 ? 32 : 128;
  const r = await run(['ip', 'addr', 'add', `${formatIp(a)}/${plen}`, 'dev', 'lo'], { allowFailure: true });
  if (r.code !== 0 && !/File exists/.test(r.stderr))
    throw new TslvsError(ErrorCodes.ENVIRONMENT, `cannot add ${formatIp(a)} to lo: ${r.stderr.trim()}`);
}

/** Applies the DR/TUN preparation; returns the saved state (also written to the state file). */
export async function realServerUp(o: RealServerOptions): Promise<{ kernelTunnel: boolean }> {
  requireRoot();
  const saved: SavedState = { vips: o.vips.map(formatIp), sysctls: {}, kernelTunnel: false, tunName: null };
  const set = async (key: string, value: string | number) => {
    if (!(key in saved.sysctls)) saved.sysctls[key] = await readSysctl(key);
    await writeSysctl(key, value);
  };
  for (const a of o.vips) await addVip(a);
  await set('net.ipv4.conf.all.arp_ignore', 1);
  await set('net.ipv4.conf.all.arp_announce', 2);
  await set('net.ipv4.conf.lo.arp_ignore', 1);
  await set('net.ipv4.conf.lo.arp_announce', 2);
  if (o.tunnel) {
    // Decapsulated packets arrive on the tunnel device with a client source routed elsewhere: rp_filter off.
    await set('net.ipv4.conf.all.rp_filter', 0);
    if (await kernelHasIpip()) {
      saved.kernelTunnel = true;
      await run(['ip', 'link', 'set', 'tunl0', 'up']);
      await set('net.ipv4.conf.tunl0.rp_filter', 0);
    } else {
      saved.tunName = o.tunName;
    }
  }
  mkdirSync(join(o.stateFile, '..'), { recursive: true });
  writeFileSync(o.stateFile, `${JSON.stringify(saved, null, 2)}\n`);
  return { kernelTunnel: saved.kernelTunnel };
}

/** Undoes `realServerUp` from the saved state (or, with none, removes the given VIPs). */
export async function realServerDown(o: Pick<RealServerOptions, 'vips' | 'stateFile'>): Promise<void> {
  requireRoot();
  let saved: SavedState | null = null;
  try {
    saved = JSON.parse(readFileSync(o.stateFile, 'utf8')) as SavedState;
  } catch {}
  const vips = saved?.vips ?? o.vips.map(formatIp);
  for (const v of vips) {
    const plen = v.includes(':') ? 128 : 32;
    await run(['ip', 'addr', 'del', `${v}/${plen}`, 'dev', 'lo'], { allowFailure: true });
  }
  for (const [k, v] of Object.entries(saved?.sysctls ?? {})) await writeSysctl(k, v).catch(() => undefined);
  if (saved?.kernelTunnel) await run(['ip', 'link', 'set', 'tunl0', 'down'], { allowFailure: true });
  rmSync(o.stateFile, { force: true });
}
