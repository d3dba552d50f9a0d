/**
 * The keepalived.conf tree -> a tslvs config object, plus the list of what was not translated or was
 * translated with a difference (each with file and line). Top level: global_defs, vrrp_instance,
 * virtual_server, local_address_group (FNAT builds); everything else is listed.
 */
import type { ConfNode } from './parser.js';
import { statementText } from './parser.js';
import { type Reporter, Scope } from './scope.js';
import { readIp, readNumber, readSeconds } from './values.js';
import { skipBlock, type TranslatedService, translateVirtualServer } from './virtual-server.js';
import { INTERFACE_PLACEHOLDER, translateVrrpInstance, type VrrpGlobals } from './vrrp.js';

export interface Translation {
  config: Record<string, unknown>;
  /** Comments to attach to output nodes, by key path. */
  comments: { path: (string | number)[]; text: string; before?: boolean }[];
}

/** TEST-NET-1 (RFC 5737): never routed, so a forgotten placeholder cannot reach anyone. */
export const LOCAL_ADDRESS_PLACEHOLDER = '192.0.2.1';

export function translate(nodes: readonly ConfNode[], report: Reporter): Translation {
  const top = new Scope(nodes, report);
  const comments: Translation['comments'] = [];
  const config: Record<string, unknown> = {};
  const { vrrp: vrrpGlobals, timeouts } = translateGlobals(top.all('global_defs'), report);
  const localGroups = new Map<string, { node: ConfNode; addresses: string[]; used: boolean }>();
  for (const g of top.all('local_address_group')) {
    const addresses: string[] = [];
    for (const line of g.children ?? []) {
      const ip = readIp(line.name);
      if (ip && line.args.length === 0) addresses.push(ip);
      else report.skip(line, 'only single addresses are supported in local_address_group');
    }
    localGroups.set(g.args[0] ?? '', { node: g, addresses, used: false });
  }
  for (const g of top.all('virtual_server_group')) {
    skipBlock(g, report, 'virtual server groups are not supported: write one service per address and port');
  }
  const instances = top
    .all('vrrp_instance')
    .map((n) => ({ node: n, out: translateVrrpInstance(n, vrrpGlobals, report) }))
    .filter((x): x is { node: ConfNode; out: Record<string, unknown> } => x.out !== null);

  const services: TranslatedService[] = [];
  const keys = new Set<string>();
  for (const vs of top.all('virtual_server')) {
    const t = translateVirtualServer(vs, report);
    if (!t) continue;
    const key = `${t.service.protocol} ${t.service.address}`;
    if (keys.has(key)) {
      skipBlock(vs, report, 'duplicate virtual server (same protocol, address and port)');
      continue;
    }
    keys.add(key);
    services.push(t);
  }
  top.finish();

  if (services.length > 0) {
    config.dataplane = packetDataplane(services, instances, localGroups, report, comments);
  }
  if (timeouts) config.timeouts = timeouts;
  if (services.length > 0) {
    config.services = services.map((s) => s.service);
    services.forEach((s, i) => {
      comments.push({
        path: ['services', i],
        text: ` ${s.origin.file}:${s.origin.line}: ${statementText(s.origin)}`,
        before: true,
      });
      for (const c of s.comments) comments.push({ path: ['services', i, ...c.path], text: ` ${c.text}` });
    });
  }
  for (const [name, g] of localGroups) {
    if (!g.used) report.skip(g.node, `local_address_group ${name} is not used by any FNAT virtual server`);
  }
  if (instances.length > 0) {
    config.ha = { vrrp: instances.map((x) => x.out) };
    instances.forEach((x, i) => {
      comments.push({
        path: ['ha', 'vrrp', i],
        text: ` ${x.node.file}:${x.node.line}: ${statementText(x.node)}`,
        before: true,
      });
    });
  }
  commandComments(config, comments);
  return { config, comments };
}

const NO_SHELL = ' argv, run without a shell';

function commandComments(config: Record<string, unknown>, comments: Translation['comments']): void {
  const services = (config.services ?? []) as Record<string, unknown>[];
  services.forEach((s, i) => {
    if ((s.health as Record<string, unknown> | undefined)?.command) {
      comments.push({ path: ['services', i, 'health', 'command'], text: NO_SHELL });
    }
    ((s.realServers ?? []) as Record<string, unknown>[]).forEach((rs, j) => {
      if ((rs.health as Record<string, unknown> | undefined)?.command) {
        comments.push({ path: ['services', i, 'realServers', j, 'health', 'command'], text: NO_SHELL });
      }
    });
  });
  const vrrp = (config.ha as { vrrp?: Record<string, unknown>[] } | undefined)?.vrrp ?? [];
  vrrp.forEach((inst, i) => {
    for (const key of Object.keys((inst.notify ?? {}) as object)) {
      comments.push({ path: ['ha', 'vrrp', i, 'notify', key], text: NO_SHELL });
    }
  });
}

function translateGlobals(
  blocks: ConfNode[],
  report: Reporter,
): { vrrp: VrrpGlobals; timeouts?: Record<string, string> } {
  const scope = new Scope(
    blocks.flatMap((b) => b.children ?? []),
    report,
  );
  const vrrp: VrrpGlobals = {};
  const version = readNumber(scope.last('vrrp_version'), report, { min: 2, max: 3 });
  if (version !== undefined) vrrp.version = version;
  const garpDelay = readSeconds(scope.last('vrrp_garp_master_delay'), report);
  if (garpDelay !== undefined) vrrp.garpDelay = garpDelay;
  const garpRepeat = readNumber(scope.last('vrrp_garp_master_repeat'), report, { min: 1, max: 255 });
  if (garpRepeat !== undefined) vrrp.garpRepeat = garpRepeat;
  const garpRefresh = readSeconds(scope.last('vrrp_garp_master_refresh'), report);
  if (garpRefresh !== undefined) vrrp.garpRefresh = garpRefresh;
  let timeouts: Record<string, string> | undefined;
  const lvsTimeouts = scope.last('lvs_timeouts');
  if (lvsTimeouts) {
    timeouts = {};
    const names: Readonly<Record<string, string>> = { tcp: 'tcp', tcpfin: 'tcpFin', udp: 'udp' };
    for (let i = 0; i < lvsTimeouts.args.length; i += 2) {
      const key = names[lvsTimeouts.args[i]!];
      const value = lvsTimeouts.args[i + 1];
      if (key && value && /^\d+$/.test(value) && Number(value) >= 1) timeouts[key] = `${value}s`;
      else
        report.untranslated(
          lvsTimeouts,
          `lvs_timeouts ... ${lvsTimeouts.args[i]} ${value ?? ''}`,
          'not understood',
        );
    }
  }
  scope.finish();
  return { vrrp, ...(timeouts && Object.keys(timeouts).length > 0 ? { timeouts } : {}) };
}

function packetDataplane(
  services: TranslatedService[],
  instances: { node: ConfNode; out: Record<string, unknown> }[],
  localGroups: Map<string, { node: ConfNode; addresses: string[]; used: boolean }>,
  report: Reporter,
  comments: Translation['comments'],
): Record<string, unknown> {
  // DR, NAT, TUN and FNAT rewrite packets: the packet data plane, on the interface VRRP runs on.
  const iface = instances.map((x) => x.out.interface).find((i) => i !== INTERFACE_PLACEHOLDER);
  const dataplane: Record<string, unknown> = { kind: 'packet', interface: iface ?? INTERFACE_PLACEHOLDER };
  const first = services[0]!.origin;
  if (!iface) {
    report.untranslated(
      first,
      'dataplane interface',
      `no vrrp_instance names an interface: '${INTERFACE_PLACEHOLDER}' was written; set the real one`,
    );
    comments.push({
      path: ['dataplane', 'interface'],
      text: ' placeholder: set the interface that carries the VIPs',
    });
  }
  const fnat = services.filter((s) => s.forwarding === 'fnat');
  if (fnat.length > 0) {
    const addresses = new Set<string>();
    for (const s of fnat) {
      const g = s.localAddressGroup ? localGroups.get(s.localAddressGroup) : undefined;
      if (g) {
        g.used = true;
        for (const a of g.addresses) addresses.add(a);
      }
    }
    if (addresses.size === 0) {
      addresses.add(LOCAL_ADDRESS_PLACEHOLDER);
      report.untranslated(
        fnat[0]!.origin,
        statementText(fnat[0]!.origin),
        `FNAT without a local_address_group: placeholder local address ${LOCAL_ADDRESS_PLACEHOLDER} was written; set the director's own addresses`,
      );
      comments.push({
        path: ['dataplane', 'localAddresses'],
        text: ' placeholder: the director addresses FNAT uses as source',
      });
    }
    dataplane.localAddresses = [...addresses];
  }
  return dataplane;
}
