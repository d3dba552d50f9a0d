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
 * With --ipv6 the lab is dual-stack: every IPv4 address 10.10.S.H/24 has the twin fd10:S::H/64 (VIP
 * fd10::100, local address fd10:1::100), and the director serves the same services on the IPv6 VIP too.
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
  /** IPv6 default gateway (dual-stack labs). */
  gateway6: string | null;
  /** Extra routes `prefix via` (kernel routes inside the namespace). */
  routes: Array<{ prefix: string; via: string }>;
}

export interface LabTopology {
  prefix: string;
  mode: LabMode;
  ha: boolean;
  /** Dual-stack (--ipv6): every host also has the IPv6 twin of each address, and there is an IPv6 VIP. */
  ipv6: boolean;
  /** The directors' `dataplane.xdp`: the default (auto), generic (--xdp) or off (--no-xdp). */
  xdp: LabXdp;
  vip: string;
  /** The IPv6 VIP (with --ipv6), else null. */
  vip6: string | null;
  ports: { tcp: number; udp: number };
  localAddresses: string[];
  bridges: string[];
  hosts: LabHost[];
  /** `address6`: the real server's IPv6 address (with --ipv6). */
  realServers: Array<{ role: string; address: string; address6?: string }>;
  adminPort: number;
}

/**
 * The IPv6 twin of a lab IPv4 address: 10.10.S.H[/24] -> fd10:S::H[/64] (fd10::H on segment 0). H keeps
 * its decimal digits, read as hex: fd10::100 for 10.10.0.100, easy to tell apart and to type.
 */
export function labIpv6Of(v4: string): string {
  const [addr, len] = v4.split('/');
  const [, , s, h] = addr!.split('.');
  const six = s === '0' ? `fd10::${h}` : `fd10:${s}::${h}`;
  return len === undefined ? six : `${six}/64`;
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

/** The lab directors' XDP fast path: the daemon's default (`auto`), `generic` asked for, or `off`. */
export type LabXdp = 'auto' | 'generic' | 'off';

export function labTopology(
  prefix: string,
  mode: LabMode,
  ha = false,
  ipv6 = false,
  xdp: LabXdp = 'auto',
): LabTopology {
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
    links: [{ name: 'eth0', bridge, addresses: dual(addresses) }],
    gateway,
    gateway6: ipv6 && gateway ? labIpv6Of(gateway) : null,
    routes: ipv6
      ? [...routes, ...routes.map((r) => ({ prefix: labIpv6Of(r.prefix), via: labIpv6Of(r.via) }))]
      : routes,
  });
  const dual = (list: string[]) => (ipv6 ? [...list, ...list.map(labIpv6Of)] : list);
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
    realServers.push({ role: `rs${i}`, address, ...(ipv6 ? { address6: labIpv6Of(address) } : {}) });
  }
  const router: LabHost = {
    role: 'router',
    ns: `${prefix}-router`,
    links: [{ name: 'eth0', bridge: br0, addresses: dual(['10.10.0.254/24', '10.10.1.254/24']) }],
    gateway: null,
    gateway6: null,
    routes: [],
  };
  hosts.push(router);
  const bridges = [br0];
  if (mode === 'fnat') {
    bridges.push(br1);
    router.links.push({ name: 'eth1', bridge: br1, addresses: dual(['10.10.2.254/24']) });
    hosts.push(host('rs4', br1, ['10.10.2.14/24'], '10.10.2.254'));
    realServers.push({
      role: 'rs4',
      address: '10.10.2.14',
      ...(ipv6 ? { address6: labIpv6Of('10.10.2.14') } : {}),
    });
  }
  return {
    prefix,
    mode,
    ha,
    ipv6,
    xdp,
    vip: '10.10.0.100',
    vip6: ipv6 ? labIpv6Of('10.10.0.100') : null,
    ports: { tcp: 80, udp: 53 },
    localAddresses: mode === 'fnat' ? dual(['10.10.1.100']) : [],
    bridges,
    hosts,
    realServers,
    adminPort: 9090,
  };
}
