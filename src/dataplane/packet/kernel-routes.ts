/**
 * The director's view of its network, read from the kernel of its namespace: the routes through the data
 * plane's interface (connected prefixes, static routes, default gateway) and the interface's own
 * addresses. The user-space forwarder uses them for next hops and as source addresses (TUN outer header),
 * so a lab or a host is configured once, with `ip`, as for IPVS.
 */
import { type IpAddress, parseIp } from '../../engine/addr.js';
import { run } from '../../tools/exec.js';

export interface KernelRoute {
  /** Destination prefix (0.0.0.0/0 for default). */
  dst: IpAddress;
  prefixLen: number;
  /** Next hop; null = on-link (connected). */
  via: IpAddress | null;
  /** Preferred source address, if the kernel has one for this route. */
  src: IpAddress | null;
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
}

export function parseRoutes(json: string, dev: string, family: 4 | 6): KernelRoute[] {
  const rows = JSON.parse(json || '[]') as IpRouteJson[];
  const out: KernelRoute[] = [];
  for (const r of rows) {
    if (r.dev !== dev) continue;
    let dst: IpAddress;
    let prefixLen: number;
    if (r.dst === 'default') {
      dst = parseIp(family === 4 ? '0.0.0.0' : '::');
      prefixLen = 0;
    } else {
      const [a, p] = r.dst.split('/');
      dst = parseIp(a!);
      prefixLen = p === undefined ? (family === 4 ? 32 : 128) : Number(p);
    }
    out.push({
      dst,
      prefixLen,
      via: r.gateway ? parseIp(r.gateway) : null,
      src: r.prefsrc ? parseIp(r.prefsrc) : null,
    });
  }
  // Longest prefix first, as the kernel chooses.
  return out.sort((a, b) => b.prefixLen - a.prefixLen);
}

export async function kernelRoutes(dev: string): Promise<KernelRoute[]> {
  const v4 = await run(['ip', '-j', '-4', 'route', 'show', 'table', 'main']);
  const v6 = await run(['ip', '-j', '-6', 'route', 'show', 'table', 'main'], { allowFailure: true });
  return [...parseRoutes(v4.stdout, dev, 4), ...(v6.code === 0 ? parseRoutes(v6.stdout, dev, 6) : [])];
}

/** The interface's own (kernel) addresses. */
export async function interfaceAddresses(dev: string): Promise<IpAddress[]> {
  const r = await run(['ip', '-j', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(r.stdout || '[]') as Array<{
    addr_info?: Array<{ local: string; scope?: string }>;
  }>;
  return links.flatMap((l) =>
    (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => parseIp(a.local)),
  );
}
