/**
 * vrrp_instance blocks -> ha.vrrp entries. keepalived's defaults are tslvs's (VRRPv2, priority 100,
 * 1 s adverts, preempt on), so only what the file says is written out.
 */
import { tryParseIp } from '../../engine/addr.js';
import { type ConfNode, statementText } from './parser.js';
import { type Reporter, Scope } from './scope.js';
import { readCommand, readIp, readNumber, readSeconds, secondsText } from './values.js';

export interface VrrpGlobals {
  version?: number;
  garpDelay?: string;
  garpRepeat?: number;
  garpRefresh?: string;
}

export const INTERFACE_PLACEHOLDER = 'CHANGE-ME';

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

export function translateVrrpInstance(
  node: ConfNode,
  globals: VrrpGlobals,
  report: Reporter,
): Record<string, unknown> | null {
  const scope = Scope.of(node, report);
  const vrid = readNumber(scope.last('virtual_router_id'), report, { min: 1, max: 255 });
  if (vrid === undefined) {
    report.skip(node, 'no usable virtual_router_id: the instance is not translated');
    return null;
  }
  let name = node.args[0] ?? `VI_${vrid}`;
  if (!LABEL_RE.test(name)) {
    const clean =
      name
        .replace(/[^A-Za-z0-9_.-]/g, '_')
        .replace(/^[_.-]+/, '')
        .slice(0, 63) || `VI_${vrid}`;
    report.changed(node, statementText(node), `renamed to '${clean}' (names are letters, digits, _ . -)`);
    name = clean;
  }
  const out: Record<string, unknown> = { name };
  const state = scope.last('state');
  if (state) {
    report.untranslated(
      state,
      statementText(state),
      'tslvs has no initial state: the highest priority becomes master',
    );
  }
  const iface = scope.last('interface');
  if (iface?.args[0]) out.interface = iface.args[0];
  else {
    out.interface = INTERFACE_PLACEHOLDER;
    report.untranslated(
      node,
      statementText(node),
      `no interface: '${INTERFACE_PLACEHOLDER}' was written; set the real one`,
    );
  }
  out.virtualRouterId = vrid;
  const priority = readNumber(scope.last('priority'), report, { min: 1, max: 255 });
  if (priority !== undefined) out.priority = priority;
  const vipsNode = scope.last('virtual_ipaddress');
  const vips = vipsNode ? valueLines(vipsNode, report, (line) => virtualAddress(line, report)) : [];
  if (!vipsNode)
    report.untranslated(node, statementText(node), 'no virtual_ipaddress: add virtualAddresses by hand');
  const vipText = (v: (typeof vips)[number]) => (typeof v.value === 'string' ? v.value : v.value.address);
  const family = vips.length > 0 ? familyOf(vipText(vips[0]!)) : 4;
  const sameFamily = (text: string, at: ConfNode) => {
    if (familyOf(text) === family) return true;
    report.untranslated(
      at,
      text,
      `an instance serves one address family (this one IPv${family}, from its first address)`,
    );
    return false;
  };
  const versionNode = scope.last('version');
  let version = readNumber(versionNode, report, { min: 2, max: 3 }) ?? globals.version;
  if (family === 6 && version !== 3) {
    // keepalived runs IPv6 instances as VRRPv3 whatever vrrp_version says (RFC 5798 only).
    if (versionNode && version === 2)
      report.changed(versionNode, statementText(versionNode), 'IPv6 needs VRRPv3: version 3 was written');
    version = 3;
  }
  const advertNode = scope.last('advert_int');
  let advert = readNumber(advertNode, report, { min: 0.01, max: 255, integer: false });
  if (advert !== undefined && advertNode) {
    if ((version ?? 2) === 2 && !Number.isInteger(advert)) {
      version = 3;
      report.changed(
        advertNode,
        statementText(advertNode),
        'sub-second adverts need VRRPv3: version 3 was written',
      );
    }
    if (version === 3 && advert > 40.95) {
      advert = 40.95;
      report.changed(
        advertNode,
        statementText(advertNode),
        'VRRPv3 allows at most 40.95s: 40.95s was written',
      );
    }
    out.advertInterval = secondsText(advert);
  }
  if (version !== undefined) out.version = version;
  if (scope.has('nopreempt')) out.preempt = false;
  scope.all('preempt');
  const delay = readSeconds(scope.last('preempt_delay'), report);
  if (delay !== undefined) out.preemptDelay = delay;
  const src = scope.last('unicast_src_ip');
  if (src) {
    const ip = readIp(src.args[0]);
    if (!ip) report.untranslated(src, statementText(src), 'not an IP address');
    else if (sameFamily(ip, src)) out.unicastSource = ip;
  }
  const peersNode = scope.last('unicast_peer');
  if (peersNode) {
    const peers = valueLines(peersNode, report, (line) => readIp(line.name));
    out.unicastPeers = peers.filter((p) => sameFamily(p.value, p.line)).map((p) => p.value);
  }
  out.virtualAddresses = vips.filter((v) => sameFamily(vipText(v), v.line)).map((v) => v.value);
  const auth = scope.last('authentication');
  if (auth) translateAuth(auth, out, report);
  translateGarp(scope, globals, out, report);
  const notify: Record<string, string[]> = {};
  for (const [keyword, key] of [
    ['notify_master', 'master'],
    ['notify_backup', 'backup'],
    ['notify_fault', 'fault'],
    ['notify_stop', 'stop'],
    ['notify', 'any'],
  ] as const) {
    const n = scope.last(keyword);
    const argv = n ? readCommand(n, report) : undefined;
    if (argv) notify[key] = argv;
  }
  if (Object.keys(notify).length > 0) out.notify = notify;
  scope.finish();
  if ((out.virtualAddresses as unknown[]).length === 0) {
    report.skip(node, 'no usable virtual address: the instance is not translated');
    return null;
  }
  return out;
}

/** The lines of a value block (virtual_ipaddress, unicast_peer): each kept or reported. */
function valueLines<T>(
  block: ConfNode,
  report: Reporter,
  read: (line: ConfNode) => T | undefined,
): { value: T; line: ConfNode }[] {
  const out: { value: T; line: ConfNode }[] = [];
  for (const line of block.children ?? []) {
    const value = read(line);
    if (value === undefined) report.skip(line, 'not an IP address');
    else out.push({ value, line });
    if (block.name === 'unicast_peer' && line.args.length > 0) {
      report.untranslated(line, statementText(line), 'per-peer options (min_ttl/max_ttl) are not supported');
    }
  }
  if (block.args.length > 0)
    report.untranslated(block, statementText(block), 'options on the block line are not supported');
  return out;
}

/** "ADDR[/LEN] [dev IF] [brd X] [label L] [scope S] ..." */
function virtualAddress(
  line: ConfNode,
  report: Reporter,
): string | { address: string; interface: string } | undefined {
  const [host, len] = line.name.split('/');
  const addr = tryParseIp(host ?? '');
  if (!addr || (len !== undefined && !/^\d{1,3}$/.test(len))) return undefined;
  const address = readIp(host)! + (len !== undefined ? `/${len}` : '');
  let dev: string | undefined;
  const ignored: string[] = [];
  for (let i = 0; i < line.args.length; i += 2) {
    const opt = line.args[i]!;
    if (opt === 'dev' && line.args[i + 1]) dev = line.args[i + 1];
    else ignored.push(`${opt} ${line.args[i + 1] ?? ''}`.trim());
  }
  if (ignored.length > 0) {
    report.untranslated(line, statementText(line), `address options not supported: ${ignored.join(', ')}`);
  }
  return dev ? { address, interface: dev } : address;
}

function translateAuth(auth: ConfNode, out: Record<string, unknown>, report: Reporter): void {
  const s = Scope.of(auth, report);
  const type = s.last('auth_type');
  const pass = s.last('auth_pass');
  if (type?.args[0]?.toUpperCase() === 'AH') {
    report.untranslated(auth, 'authentication { auth_type AH }', 'IPsec AH authentication is not supported');
    if (pass) report.untranslated(pass, 'auth_pass', 'belongs to the AH authentication above');
  } else if (pass?.args[0]) {
    // keepalived also uses only the first 8 characters (the VRRPv2 field is 8 bytes).
    if (pass.args[0].length > 8)
      report.changed(pass, 'auth_pass', 'truncated to 8 characters, as keepalived does');
    out.authPass = pass.args[0].slice(0, 8);
  }
  s.finish();
}

function translateGarp(
  scope: Scope,
  globals: VrrpGlobals,
  out: Record<string, unknown>,
  report: Reporter,
): void {
  const garp: Record<string, unknown> = {};
  const repeat =
    readNumber(scope.last('garp_master_repeat'), report, { min: 1, max: 255 }) ?? globals.garpRepeat;
  const refresh = readSeconds(scope.last('garp_master_refresh'), report) ?? globals.garpRefresh;
  const delay = readSeconds(scope.last('garp_master_delay'), report) ?? globals.garpDelay;
  if (repeat !== undefined) garp.repeat = repeat;
  if (refresh !== undefined) garp.refresh = refresh;
  if (delay !== undefined) garp.delay = delay;
  if (Object.keys(garp).length > 0) out.garp = garp;
}
