/**
 * ipvsadm's output, column for column: the format strings of ipvsadm 1.31 (`print_title`,
 * `print_service_entry`, `print_largenum`, `list_all`, `list_timeout`, `list_conn`/`print_conn`) applied
 * to what the admin API returns. Addresses are always numeric (as with -n). Sorting follows libipvs's
 * `ipvs_cmp_services`/`ipvs_cmp_dests`, including their wrapping 32-bit address subtraction.
 */
import type { ServiceView } from '../../control/api/views.js';
import { formatNetmask, parseIp } from '../../engine/addr.js';
import type { ConnSnapshot } from '../../engine/snapshot.js';
import type { ListFormat } from './command.js';

/** IPVS's version as `ip_vs.h` IP_VS_VERSION_CODE 0x010201 reports it. */
export const IPVS_VERSION = '1.2.1';

type RealServerView = ServiceView['realServers'][number];

const left = (v: string | number, w: number): string => String(v).padEnd(w);
const right = (v: string | number, w: number): string => String(v).padStart(w);

/** print_largenum: 9 columns, K/M/G/T beyond 10^8 unless --exact. */
export function largenum(i: number, exact: boolean): string {
  const n = Math.max(0, Math.floor(i));
  if (exact) {
    const len = String(n).length;
    return right(n, len <= 8 ? 9 : len + 1);
  }
  if (n < 1e8) return right(n, 9);
  if (n < 1e9) return `${right(Math.floor(n / 1e3), 8)}K`;
  if (n < 1e11) return `${right(Math.floor(n / 1e6), 8)}M`;
  if (n < 1e14) return `${right(Math.floor(n / 1e9), 8)}G`;
  return `${right(Math.floor(n / 1e12), 8)}T`;
}

const FWD_NAME: Readonly<Record<string, string>> = {
  dr: 'Route',
  nat: 'Masq',
  tun: 'Tunnel',
  fnat: 'FullNat',
};
const FWD_SWITCH: Readonly<Record<string, string>> = { dr: '-g', nat: '-m', tun: '-i', fnat: '--fullnat' };

function isV6(address: string): boolean {
  return address.startsWith('[');
}

function hostOf(endpoint: string): string {
  return endpoint.startsWith('[')
    ? endpoint.slice(1, endpoint.indexOf(']'))
    : endpoint.slice(0, endpoint.lastIndexOf(':'));
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

/** `r = ntohl(a) - ntohl(b)` into a C int, word by word while equal (v6), as libipvs compares. */
function cmpAddr(a: string, b: string): number {
  const wa = parseIp(hostOf(a));
  const wb = parseIp(hostOf(b));
  const words = wa.family === 6 ? 4 : 1;
  for (let i = 0; i < words; i++) {
    const r = ((wa.words[i]! >>> 0) - (wb.words[i]! >>> 0)) | 0;
    if (r !== 0) return r;
  }
  return 0;
}

export function sortServices(services: readonly ServiceView[]): ServiceView[] {
  const af = (s: ServiceView) => (isV6(s.address) ? 10 : 2);
  const proto = (s: ServiceView) => (s.protocol === 'tcp' ? 6 : 17);
  return [...services].sort(
    (a, b) =>
      af(a) - af(b) ||
      proto(a) - proto(b) ||
      cmpAddr(a.address, b.address) ||
      portOf(a.address) - portOf(b.address),
  );
}

export function sortDests(dests: readonly RealServerView[]): RealServerView[] {
  return [...dests].sort((a, b) => cmpAddr(a.address, b.address) || portOf(a.address) - portOf(b.address));
}

function serviceName(s: ServiceView): string {
  const name = `${left(s.protocol.toUpperCase(), 4)} ${s.address}`;
  return isV6(s.address) ? name : name.slice(0, 33);
}

function destName(d: RealServerView): string {
  return isV6(d.address) ? d.address : d.address.slice(0, 28);
}

function maskText(s: ServiceView, prefix: number): string | null {
  if (isV6(s.address)) return prefix === 128 ? null : String(prefix);
  return prefix === 32 ? null : formatNetmask(prefix, 4);
}

export function title(f: ListFormat): string {
  const head = left('Prot LocalAddress:Port', 33);
  if (f.stats)
    return `${head} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => right(h, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (f.rate)
    return `${head} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => right(h, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (f.thresholds)
    return `${head} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((h) => left(h, 10)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (f.persistentConn)
    return `${head} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

function serviceLine(s: ServiceView, f: ListFormat): string {
  const name = serviceName(s);
  if (f.stats) {
    const st = s.stats;
    return `${left(name, 33)}${[st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map((n) => largenum(n, f.exact)).join('')}`;
  }
  if (f.rate) {
    const r = s.rates;
    return `${left(name, 33)}${[r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((n) => largenum(n, f.exact)).join('')}`;
  }
  let line = `${name} ${s.scheduler.name}`;
  if (s.scheduler.flags.length > 0) line += ` (${s.scheduler.flags.join(',')})`;
  if (s.persistence) {
    line += ` persistent ${Math.floor(s.persistence.timeoutSeconds)}`;
    const mask = maskText(s, s.persistence.prefixLength);
    if (mask) line += ` mask ${mask}`;
  }
  if (s.onePacket) line += ' ops';
  return line;
}

function destLine(d: RealServerView, f: ListFormat): string {
  const name = destName(d);
  if (f.stats) {
    const st = d.stats;
    return `  -> ${left(name, 28)}${[st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes].map((n) => largenum(n, f.exact)).join('')}`;
  }
  if (f.rate) {
    const r = d.rates;
    return `  -> ${left(name, 28)} ${right(r.cps, 8)} ${right(r.inpps, 8)} ${right(r.outpps, 8)}${largenum(r.inbps, f.exact)}${largenum(r.outbps, f.exact)}`;
  }
  if (f.thresholds)
    return `  -> ${left(name, 28)} ${[d.maxConnections, d.lowerThreshold, d.activeConns, d.inactConns].map((n) => left(n, 10)).join(' ')}`;
  if (f.persistentConn)
    return `  -> ${left(name, 28)} ${left(d.weight, 9)} ${left(d.persistConns, 11)} ${left(d.activeConns, 10)} ${left(d.inactConns, 10)}`;
  return `  -> ${left(name, 28)} ${left(FWD_NAME[d.forwarding] ?? 'Local', 7)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactConns, 10)}`;
}

/**
 * One service entry. Only the real servers in the scheduling list are shown: a server a failed health
 * check took out is not in the IPVS table either (keepalived deletes it).
 */
export function serviceEntry(s: ServiceView, f: ListFormat): string {
  const listed = s.realServers.filter((d) => d.listed);
  const dests = f.nosort ? listed : sortDests(listed);
  return [serviceLine(s, f), ...dests.map((d) => destLine(d, f))].map((l) => `${l}\n`).join('');
}

/** ipvsadm -L: the version line (with the session table size), the title, every service. */
export function listAll(services: readonly ServiceView[], size: number, f: ListFormat): string {
  const sorted = f.nosort ? services : sortServices(services);
  return `IP Virtual Server version ${IPVS_VERSION} (size=${size})\n${title(f)}${sorted.map((s) => serviceEntry(s, f)).join('')}`;
}

/** ipvsadm -L -t VIP:PORT: the title and one service, no version line. */
export function listService(s: ServiceView, f: ListFormat): string {
  return `${title(f)}${serviceEntry(s, f)}`;
}

/**
 * ipvsadm -S: rules that -R reads back. Configured values are saved (a weight a failed health check
 * zeroed is saved as configured), every configured server included. Beyond ipvsadm, non-zero -x/-y are
 * appended (ipvsadm -a accepts them; ipvsadm -S loses them).
 */
export function saveRules(services: readonly ServiceView[], f: ListFormat): string {
  const out: string[] = [];
  for (const s of f.nosort ? services : sortServices(services)) {
    const svc = `${s.protocol === 'tcp' ? '-t' : '-u'} ${s.address}`;
    let line = `-A ${svc} -s ${s.scheduler.name}`;
    if (s.persistence) {
      line += ` -p ${Math.floor(s.persistence.timeoutSeconds)}`;
      const mask = maskText(s, s.persistence.prefixLength);
      if (mask) line += ` -M ${mask}`;
    }
    if (s.onePacket) line += ' -o';
    if (s.scheduler.flags.length > 0) line += ` -b ${s.scheduler.flags.join(',')}`;
    out.push(line);
    for (const d of f.nosort ? s.realServers : sortDests(s.realServers)) {
      let rule = `-a ${svc} -r ${d.address} ${FWD_SWITCH[d.forwarding] ?? '-g'} -w ${d.configuredWeight}`;
      if (d.forwarding === 'tun') rule += ' --tun-type ipip';
      if (d.maxConnections > 0) rule += ` -x ${d.maxConnections}`;
      if (d.lowerThreshold > 0) rule += ` -y ${d.lowerThreshold}`;
      out.push(rule);
    }
  }
  return out.map((l) => `${l}\n`).join('');
}

export function timeoutLine(t: { tcp: number; tcpFin: number; udp: number }): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`;
}

export function connectionsHeader(f: ListFormat): string {
  const cols = f.persistentConn
    ? `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} ${left('destination', 18)} ${left('pe name', 16)} pe_data`
    : `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination`;
  return `IPVS connection entries\n${cols}\n`;
}

/** One /proc/net/ip_vs_conn entry as print_conn shows it: protocol, mm:ss, state, addresses. */
export function connectionLine(c: ConnSnapshot): string {
  const secs = Math.floor(c.expiresMs / 1000);
  const expire = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
  // A UDP template's state prints as UDP in IPVS (udp_state_name of state 0); a TCP template's as NONE.
  const state = c.template && c.protocol === 'udp' ? 'UDP' : c.state;
  return `${left(c.protocol.toUpperCase(), 3)} ${left(expire, 6)} ${left(state, 11)} ${left(c.client, 18)} ${left(c.virtual, 18)} ${c.realServer}\n`;
}
