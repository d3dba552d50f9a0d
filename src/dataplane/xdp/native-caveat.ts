/** What `dataplane.xdp: native` means on a virtual device, said before anything is attached. */
import { realpathSync } from 'node:fs';

/**
 * Why native mode may not do here what it does on a NIC, or null: on a virtual device (veth above all) a
 * frame the program redirects is accepted only by a peer that runs NAPI (an XDP program of its own, or
 * GRO), and dropped by the kernel otherwise. Read from sysfs in the calling thread's namespace.
 */
export function nativeModeCaveat(ifname: string): string | null {
  let path = '';
  try {
    path = realpathSync(`/sys/class/net/${ifname}`);
  } catch {
    return null;
  }
  if (!path.includes('/devices/virtual/')) return null;
  return (
    `dataplane.xdp native on the virtual device ${ifname}: on veth, frames the fast path redirects are ` +
    'accepted only when the peer runs NAPI (an XDP program or GRO on it), and dropped by the kernel ' +
    'otherwise; generic mode has no such condition'
  );
}
