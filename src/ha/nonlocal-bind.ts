/**
 * In proxy mode a backup director must listen on virtual addresses it does not hold yet. Linux refuses
 * that bind (EADDRNOTAVAIL) unless `net.ipv4.ip_nonlocal_bind` (`net.ipv6.ip_nonlocal_bind`) is 1, the
 * same setting HAProxy-behind-keepalived setups use. tslvs does not change host sysctls behind the
 * operator's back; it names the problem before the listeners fail.
 */
import { readFileSync } from 'node:fs';
import { formatIp, type IpAddress, ipEquals } from '../engine/addr.js';

interface ConfigView {
  dataplane: { kind: string };
  services: readonly { name: string; address: { addr: IpAddress } }[];
  ha: { vrrp: readonly { virtualAddresses: readonly { addr: IpAddress }[] }[] };
}

function sysctlOn(path: string, read: (p: string) => string): boolean {
  try {
    return read(path).trim() === '1';
  } catch {
    return true; // unknown: do not warn about what we cannot see
  }
}

/** A warning sentence, or null when nothing stands in the way. */
export function nonlocalBindProblem(
  config: ConfigView,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string | null {
  if (config.dataplane.kind !== 'proxy') return null;
  const vips = config.ha.vrrp.flatMap((v) => v.virtualAddresses.map((a) => a.addr));
  const onVip = config.services.filter((s) => vips.some((v) => ipEquals(v, s.address.addr)));
  const need = new Set(onVip.map((s) => s.address.addr.family));
  const missing: string[] = [];
  if (need.has(4) && !sysctlOn('/proc/sys/net/ipv4/ip_nonlocal_bind', read))
    missing.push('net.ipv4.ip_nonlocal_bind=1');
  if (need.has(6) && !sysctlOn('/proc/sys/net/ipv6/ip_nonlocal_bind', read))
    missing.push('net.ipv6.ip_nonlocal_bind=1');
  if (missing.length === 0) return null;
  const names = onVip.map((s) => `${s.name} (${formatIp(s.address.addr)})`).join(', ');
  return `services on VRRP virtual addresses (${names}) cannot listen while this director is BACKUP unless ${missing.join(' and ')} is set`;
}
