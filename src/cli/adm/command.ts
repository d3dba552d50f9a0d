/**
 * From parsed options to one typed command, with ipvsadm 1.31's value parsing and messages
 * (`parse_service`, `parse_timeout`, `string_to_number`, `parse_netmask`, `parse_sched_flags`,
 * `process_options`). Names are not resolved: addresses and ports are numeric (see docs/adm.md).
 */
import { type Family, formatIp, parseNetmask, tryParseIp } from '../../engine/addr.js';
import { AdmUsageError, type Command, checkOptions, type OptionClass, type ParsedArgs } from './options.js';

/** ipvsadm's MAX_TIMEOUT: 31 days. */
export const MAX_TIMEOUT = 86400 * 31;
/**
 * `-p` without a value: libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT = 6*60 seconds. (The man page says 300;
 * the code, which is what runs, sends 360.)
 */
export const DEFAULT_PERSISTENT_TIMEOUT = 360;
export const DEFAULT_SCHEDULER = 'wlc';

export type Fwd = 'dr' | 'nat' | 'tun' | 'fnat';

export interface Addr {
  family: Family;
  /** Canonical address text (no brackets). */
  ip: string;
  port: number;
  portGiven: boolean;
}

export interface ServiceAddr extends Addr {
  protocol: 'tcp' | 'udp';
}

export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  exact: boolean;
  nosort: boolean;
}

export type AdmCommand =
  | { cmd: 'help' }
  | { cmd: 'version' }
  | {
      cmd: 'list';
      what: 'all' | 'service' | 'connections' | 'timeout' | 'daemon';
      service: ServiceAddr | null;
      format: ListFormat;
    }
  | { cmd: 'save'; format: ListFormat }
  | { cmd: 'flush' }
  | { cmd: 'restore' }
  | {
      cmd: 'add-service' | 'edit-service';
      service: ServiceAddr;
      scheduler: string;
      flags: string[];
      persistent: { timeout: number; prefixLength: number | null } | null;
      ops: boolean;
    }
  | { cmd: 'delete-service'; service: ServiceAddr }
  | {
      cmd: 'add-server' | 'edit-server';
      service: ServiceAddr;
      server: Addr;
      /** null: not given (ipvsadm's default is -g). */
      fwd: Fwd | null;
      weight: number;
      uThreshold: number;
      lThreshold: number;
    }
  | { cmd: 'delete-server'; service: ServiceAddr; server: Addr }
  | { cmd: 'set'; tcp: number; tcpFin: number; udp: number }
  | { cmd: 'zero'; service: ServiceAddr | null };

/** strtol(s, &end, 10) consuming the whole (non-empty) string, within [min, max]; else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  if (!/^\s*[+-]?\d+$/.test(s)) return -1;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : -1;
}

function parseTimeout(s: string, min: number, max: number): number {
  const n = stringToNumber(s, min, max);
  if (n === -1) throw new AdmUsageError(`invalid timeout value \`${s}' specified`);
  return n;
}

/** parse_service: `host[:port]`, `[v6]:port` or a bare v6 address. Null when it is not one. */
export function parseAddress(text: string): Addr | null {
  if (text === '' || /^\d+$/.test(text)) return null;
  let host = text;
  let port: string | null = null;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return null;
    host = text.slice(1, end);
    port = text.slice(end + 2);
  } else if (tryParseIp(text)?.family !== 6) {
    const i = text.lastIndexOf(':');
    if (i >= 0) {
      host = text.slice(0, i);
      port = text.slice(i + 1);
    }
  }
  const ip = tryParseIp(host);
  if (!ip) return null;
  if (text.startsWith('[') && ip.family !== 6) return null;
  let n = 0;
  if (port !== null) {
    n = stringToNumber(port, 0, 65535);
    if (n === -1) return null;
  }
  return { family: ip.family, ip: formatIp(ip), port: n, portGiven: port !== null };
}

const SCHED_FLAGS: Readonly<Record<string, string | null>> = {
  'sh-fallback': 'sh',
  'sh-port': 'sh',
  'mh-fallback': 'mh',
  'mh-port': 'mh',
  'flag-1': null,
  'flag-2': null,
  'flag-3': null,
};

function parseSchedFlags(scheduler: string, text: string): string[] {
  const out: string[] = [];
  for (const flag of text.split(',').filter((f) => f !== '')) {
    if (!(flag in SCHED_FLAGS)) throw new AdmUsageError(`invalid scheduler flag \`${flag}'`);
    const owner = SCHED_FLAGS[flag];
    if (owner === null)
      throw new AdmUsageError(
        `scheduler flag \`${flag}' is not supported by tslvs (only sh-* and mh-* flags)`,
      );
    if (owner !== scheduler) throw new AdmUsageError(`incompatible scheduler flag \`${flag}'`);
    if (!out.includes(flag)) out.push(flag);
  }
  return out;
}

const UNSUPPORTED: Readonly<Record<string, string>> = {
  'fwmark-service': 'firewall-mark services (-f) are not supported by tslvs',
  'sctp-service': 'SCTP services are not supported by tslvs',
  pe: 'persistence engines (--pe) are not supported by tslvs',
  'start-daemon':
    "the IPVS sync daemon is not supported: configure session sync in the config file's ha.sync",
  'stop-daemon': "the IPVS sync daemon is not supported: configure session sync in the config file's ha.sync",
};

export function toCommand(p: ParsedArgs): AdmCommand {
  if (p.command === 'help') return { cmd: 'help' };
  if (p.command === 'version') return { cmd: 'version' };
  const cmd: Command = p.command;
  if (UNSUPPORTED[cmd]) throw new AdmUsageError(UNSUPPORTED[cmd]);
  const given = new Set<OptionClass>();
  const value = new Map<OptionClass, string | null>();
  let protocol: 'tcp' | 'udp' = 'tcp';
  let fwd: Fwd | null = null;
  for (const o of p.options) {
    if (UNSUPPORTED[o.def.long]) throw new AdmUsageError(UNSUPPORTED[o.def.long]!);
    if (!o.def.cls) continue;
    given.add(o.def.cls);
    value.set(o.def.cls, o.value);
    if (o.def.long === 'udp-service') protocol = 'udp';
    if (o.def.cls === 'forwarding-method')
      fwd = ({ masquerading: 'nat', ipip: 'tun', gatewaying: 'dr', fullnat: 'fnat' } as const)[
        o.def.long as 'masquerading' | 'ipip' | 'gatewaying' | 'fullnat'
      ];
  }
  // Values are parsed in option order in ipvsadm; the service comes first so -M knows its family.
  let service: ServiceAddr | null = null;
  if (given.has('service-address')) {
    const a = parseAddress(value.get('service-address') ?? '');
    if (!a) throw new AdmUsageError('illegal virtual server address[:port] specified');
    service = { ...a, protocol };
  }
  let server: Addr | null = null;
  if (given.has('real-server')) {
    server = parseAddress(value.get('real-server') ?? '');
    if (!server) throw new AdmUsageError('illegal real server address[:port] specified');
    if (!server.portGiven) server = { ...server, port: service?.port ?? 0 };
  }
  const num = (cls: OptionClass, max: number, what: string, dflt: number): number => {
    if (!given.has(cls)) return dflt;
    const n = stringToNumber(value.get(cls) ?? '', 0, max);
    if (n === -1) throw new AdmUsageError(`illegal ${what} specified`);
    return n;
  };
  const weight = num('weight', 65535, 'weight', 1);
  const uThreshold = num('u-threshold', 2 ** 31 - 1, 'u_threshold', 0);
  const lThreshold = num('l-threshold', 2 ** 31 - 1, 'l_threshold', 0);
  const scheduler = value.get('scheduler') ?? DEFAULT_SCHEDULER;
  let persistent: { timeout: number; prefixLength: number | null } | null = null;
  if (given.has('persistent')) {
    const v = value.get('persistent');
    persistent = {
      timeout: v == null ? DEFAULT_PERSISTENT_TIMEOUT : parseTimeout(v, 1, MAX_TIMEOUT),
      prefixLength: null,
    };
  }
  let prefixLength: number | null = null;
  if (given.has('netmask')) {
    const v = value.get('netmask') ?? '';
    if (service?.family === 6) {
      const n = Number.parseInt(v, 10);
      if (!(n >= 1 && n <= 128)) throw new AdmUsageError('illegal ipv6 netmask specified');
      prefixLength = n;
    } else {
      try {
        prefixLength = parseNetmask(v, 4);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(v)) throw new Error('not dotted');
      } catch {
        throw new AdmUsageError('illegal virtual server persistent mask specified');
      }
    }
  }
  if (given.has('tun-type') && value.get('tun-type') !== 'ipip') {
    if (!['gue', 'gre'].includes(value.get('tun-type') ?? ''))
      throw new AdmUsageError('illegal tunnel type specified');
    throw new AdmUsageError(`tunnel type ${value.get('tun-type')} is not supported by tslvs (only ipip)`);
  }
  const flags = given.has('sched-flags') ? parseSchedFlags(scheduler, value.get('sched-flags') ?? '') : [];
  if (cmd === 'set') {
    if (p.positional.length < 3) throw new AdmUsageError('--set option requires 3 timeout values');
  }
  const extra = cmd === 'set' ? p.positional.slice(3) : p.positional;
  if (extra.length > 0) throw new AdmUsageError(`unexpected argument ${extra[0]}`);
  checkOptions(cmd, given);
  const format: ListFormat = {
    numeric: given.has('numeric'),
    stats: given.has('stats'),
    rate: given.has('rate'),
    thresholds: given.has('thresholds'),
    persistentConn: given.has('persistent-conn'),
    exact: given.has('exact'),
    nosort: given.has('nosort'),
  };
  switch (cmd) {
    case 'list': {
      const g = (o: OptionClass) => given.has(o);
      if (
        ((g('connection') || g('timeout') || g('daemon')) && (g('stats') || g('rate') || g('thresholds'))) ||
        ((g('timeout') || g('daemon')) && g('persistent-conn'))
      )
        throw new AdmUsageError('options conflicts in the list command');
      const what = g('connection')
        ? 'connections'
        : service
          ? 'service'
          : g('timeout')
            ? 'timeout'
            : g('daemon')
              ? 'daemon'
              : 'all';
      return { cmd, what, service, format };
    }
    case 'save':
      return { cmd, format };
    case 'flush':
    case 'restore':
      return { cmd };
    case 'add-service':
    case 'edit-service': {
      const svc = service!;
      if (svc.port === 0 && !persistent)
        throw new AdmUsageError('Zero port specified for non-persistent service');
      if (given.has('ops') && svc.protocol !== 'udp')
        throw new AdmUsageError('One-Packet Scheduling is only for UDP virtual services');
      if (persistent) persistent.prefixLength = prefixLength;
      return { cmd, service: svc, scheduler, flags, persistent, ops: given.has('ops') };
    }
    case 'delete-service':
      return { cmd, service: service! };
    case 'add-server':
    case 'edit-server':
      return { cmd, service: service!, server: server!, fwd, weight, uThreshold, lThreshold };
    case 'delete-server':
      return { cmd, service: service!, server: server! };
    case 'set': {
      const [tcp, tcpFin, udp] = p.positional.map((v) => parseTimeout(v, 0, MAX_TIMEOUT));
      return { cmd, tcp: tcp!, tcpFin: tcpFin!, udp: udp! };
    }
    case 'zero':
      return { cmd, service };
    default:
      throw new AdmUsageError(`'${cmd}' is not supported`);
  }
}
