/**
 * The namespace lab's topology, as data: which namespaces, links and addresses make up a lab for each LVS
 * mode. `lab up` builds it, `lab status --json` prints it, tests read it.
 *
 *   segment A (bridge P-br0): client 10.10.0.2, director 10.10.0.1 + 10.10.1.1 (VIP 10.10.0.100 and the
 *   FNAT local address 10.10.1.100 are answered by tslvs in user space), rs1-3 10.10.1.11-13,
 *   router 10.10.0.254 + 10.10.1.254
 *   segment B (bridge P-br1, Full-NAT only): router 10.10.2.254, rs4 10.10.2.14 — another L2 segment,
 *   reachable from the director only through the router: the cross-VLAN case the article describes.
 *
 * Real servers' default gateway: the director for NAT (replies must come back through it), the router for
 * DR and TUN (replies go straight to the client) and for FNAT (replies go to the local address, which is
 * on-link anyway).
 */
export const LAB_MODES = ['dr', 'nat', 'tun', 'fnat'] as const;
export type LabMode = (typeof LAB_MODES)[number];

export interface LabHost {
  /** Short role name: client, director, director2, rs1..rs4, router. */
  role: string;
  /** Namespace name: `${prefix}-${role}`. */
  ns: string;
  /** Interfaces inside the namespace. */
  links: Array<{ name: string; bridge: string; addresses: string[] }>;
  /** Default gateway, if any. */
  gateway: string | null;
  /** Extra routes `prefix via` (kernel routes inside the namespace). */
  routes: Array<{ prefix: string; via: string }>;
}

export interface LabTopology {
  prefix: string;
  mode: LabMode;
  ha: boolean;
  vip: string;
  ports: { tcp: number; udp: number };
  localAddresses: string[];
  bridges: string[];
  hosts: LabHost[];
  realServers: Array<{ role: string; address: string }>;
  adminPort: number;
}

export const LAB_DEFAULT_PREFIX = 'tslvs';

/** The real servers' gateway in NAT mode with two directors: a VRRP virtual address. */
export const NAT_HA_GATEWAY = '10.10.1.250';

export function validatePrefix(prefix: string): string | null {
  // Root-namespace link names (`${prefix}-br0`, `${prefix}-rs4a`) must fit IFNAMSIZ (15 characters).
  return /^[a-z][a-z0-9]{0,9}$/.test(prefix)
    ? null
    : `lab prefix '${prefix}' must be 1-10 lowercase letters or digits, starting with a letter`;
}

export function labTopology(prefix: string, mode: LabMode, ha = false): LabTopology {
  const br0 = `${prefix}-br0`;
  const br1 = `${prefix}-br1`;
  // NAT: the real servers' gateway is the director; with two directors, an address VRRP moves with the
  // VIP (a kernel address of one director would strand the replies when the other takes over).
  const rsGateway = mode === 'nat' ? (ha ? NAT_HA_GATEWAY : '10.10.1.1') : '10.10.1.254';
  const host = (
    role: string,
    bridge: string,
    addresses: string[],
    gateway: string | null,
    routes: LabHost['routes'] = [],
  ): LabHost => ({
    role,
    ns: `${prefix}-${role}`,
    links: [{ name: 'eth0', bridge, addresses }],
    gateway,
    routes,
  });
  const hosts: LabHost[] = [
    host('client', br0, ['10.10.0.2/24'], '10.10.0.254'),
    host('director', br0, ['10.10.0.1/24', '10.10.1.1/24'], '10.10.0.254', [
      { prefix: '10.10.2.0/24', via: '10.10.1.254' },
    ]),
  ];
  if (ha) {
    hosts.push(
      host('director2', br0, ['10.10.0.3/24', '10.10.1.3/24'], '10.10.0.254', [
        { prefix: '10.10.2.0/24', via: '10.10.1.254' },
      ]),
    );
  }
  const realServers: LabTopology['realServers'] = [];
  for (let i = 1; i <= 3; i++) {
    const address = `10.10.1.${10 + i}`;
    hosts.push(host(`rs${i}`, br0, [`${address}/24`], rsGateway));
    realServers.push({ role: `rs${i}`, address });
  }
  const router: LabHost = {
    role: 'router',
    ns: `${prefix}-router`,
    links: [{ name: 'eth0', bridge: br0, addresses: ['10.10.0.254/24', '10.10.1.254/24'] }],
    gateway: null,
    routes: [],
  };
  hosts.push(router);
  const bridges = [br0];
  if (mode === 'fnat') {
    bridges.push(br1);
    router.links.push({ name: 'eth1', bridge: br1, addresses: ['10.10.2.254/24'] });
    hosts.push(host('rs4', br1, ['10.10.2.14/24'], '10.10.2.254'));
    realServers.push({ role: 'rs4', address: '10.10.2.14' });
  }
  return {
    prefix,
    mode,
    ha,
    vip: '10.10.0.100',
    ports: { tcp: 80, udp: 53 },
    localAddresses: mode === 'fnat' ? ['10.10.1.100'] : [],
    bridges,
    hosts,
    realServers,
    adminPort: 9090,
  };
}
