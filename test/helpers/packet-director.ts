/**
 * The two-host setup of the packet-mode daemon tests: the director's namespace and a peer joined by one
 * veth pair, and a config with one DR service on it.
 */
import type { Lab } from './netns.js';

/** Namespace `d` (the director, eth0 10.99.0.1/24) and `p` (eth0 10.99.0.2/24), joined by a veth pair. */
export async function directorAndPeer(lab: Lab): Promise<{ d: string; p: string }> {
  const d = await lab.addNs('d');
  const p = await lab.addNs('p');
  await lab.addVeth(
    { ns: d, name: 'eth0', addresses: ['10.99.0.1/24'] },
    { ns: p, name: 'eth0', addresses: ['10.99.0.2/24'] },
  );
  return { d, p };
}

/**
 * A packet-mode config: admin on 127.0.0.1:`port`, the data plane on `iface` (with `dataplane`, more keys
 * of it, as YAML flow text), one DR service 10.99.0.100:80 -> 10.99.0.11:80 without health checks.
 */
export function packetConfig(o: { iface?: string; port?: number; dataplane?: string } = {}): string {
  return `admin: { listen: 127.0.0.1:${o.port ?? 9090}, token: t }
dataplane: { kind: packet, interface: ${o.iface ?? 'eth0'}${o.dataplane ? `, ${o.dataplane}` : ''} }
services:
  - name: web
    protocol: tcp
    address: 10.99.0.100:80
    forwarding: dr
    health: { kind: none }
    realServers: [{ address: 10.99.0.11:80, weight: 1 }]
`;
}
