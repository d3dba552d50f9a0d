/**
 * ipvsadm's command line, parsed as ipvsadm 1.31 parses it (ipvsadm.c `parse_options`, popt): short
 * options may be bundled (`-Ln`), take their argument attached (`-t10.0.0.1:80`) or as the next word,
 * `-p` takes an optional one; long options take `--opt=value` or the next word. The first option must
 * be the command. Then the command/option table (`commands_v_options`) is checked in ipvsadm's order,
 * with its messages. Every usage error is an AdmUsageError (exit status 2).
 */
export class AdmUsageError extends Error {
  /** Also print "Try `tslvs adm -h'..." after the message. */
  readonly tryHelp: boolean;
  constructor(message: string, tryHelp = false) {
    super(message);
    this.name = 'AdmUsageError';
    this.tryHelp = tryHelp;
  }
}

export const COMMANDS = [
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'list',
  'add-server',
  'delete-server',
  'edit-server',
  'set',
  'start-daemon',
  'stop-daemon',
  'restore',
  'save',
  'zero',
] as const;
export type Command = (typeof COMMANDS)[number];

/** ipvsadm's option classes, in its order (`optnames`): the order errors are reported in. */
export const OPTIONS = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'tun-type',
] as const;
export type OptionClass = (typeof OPTIONS)[number];

type Rule = '+' | 'x' | '1' | ' ';

/** A row of the table: illegal ('x') unless listed. */
function row(rules: Partial<Record<OptionClass, Rule>>): Readonly<Record<OptionClass, Rule>> {
  return Object.fromEntries(OPTIONS.map((o) => [o, rules[o] ?? 'x'])) as Record<OptionClass, Rule>;
}

const SERVICE_EDIT = row({
  'service-address': '+',
  scheduler: ' ',
  persistent: ' ',
  netmask: ' ',
  ops: ' ',
  pe: ' ',
  'sched-flags': ' ',
});
const SERVER_EDIT = row({
  'service-address': '+',
  'real-server': '+',
  'forwarding-method': ' ',
  weight: ' ',
  'u-threshold': ' ',
  'l-threshold': ' ',
  'tun-type': ' ',
});

/**
 * ipvsadm 1.31's commands_v_options for these columns: '+' required, 'x' illegal, '1' at most one of
 * the '1's, ' ' optional.
 */
const TABLE: Readonly<Record<Command, Readonly<Record<OptionClass, Rule>>>> = {
  'add-service': SERVICE_EDIT,
  'edit-service': SERVICE_EDIT,
  'delete-service': row({ 'service-address': '+' }),
  flush: row({}),
  list: row({
    numeric: ' ',
    connection: '1',
    'service-address': '1',
    timeout: '1',
    daemon: '1',
    stats: ' ',
    rate: ' ',
    thresholds: ' ',
    'persistent-conn': ' ',
    nosort: ' ',
    syncid: ' ',
    exact: ' ',
  }),
  'add-server': SERVER_EDIT,
  'delete-server': row({ 'service-address': '+', 'real-server': '+' }),
  'edit-server': SERVER_EDIT,
  set: row({}),
  'start-daemon': row({ 'mcast-interface': ' ', syncid: ' ' }),
  'stop-daemon': row({ syncid: ' ' }),
  restore: row({}),
  save: row({ numeric: ' ' }),
  zero: row({ 'service-address': ' ' }),
};

type ArgKind = 'none' | 'required' | 'optional';

interface OptionDef {
  long: string;
  short?: string;
  arg: ArgKind;
  /** A command, or the option class it sets (null: accepted and ignored, as --sort). */
  command?: Command;
  cls?: OptionClass | null;
}

const DEFS: readonly OptionDef[] = [
  { long: 'add-service', short: 'A', arg: 'none', command: 'add-service' },
  { long: 'edit-service', short: 'E', arg: 'none', command: 'edit-service' },
  { long: 'delete-service', short: 'D', arg: 'none', command: 'delete-service' },
  { long: 'clear', short: 'C', arg: 'none', command: 'flush' },
  { long: 'list', short: 'L', arg: 'none', command: 'list' },
  { long: 'list', short: 'l', arg: 'none', command: 'list' },
  { long: 'zero', short: 'Z', arg: 'none', command: 'zero' },
  { long: 'add-server', short: 'a', arg: 'none', command: 'add-server' },
  { long: 'edit-server', short: 'e', arg: 'none', command: 'edit-server' },
  { long: 'delete-server', short: 'd', arg: 'none', command: 'delete-server' },
  { long: 'set', arg: 'none', command: 'set' },
  { long: 'restore', short: 'R', arg: 'none', command: 'restore' },
  { long: 'save', short: 'S', arg: 'none', command: 'save' },
  { long: 'start-daemon', arg: 'required', command: 'start-daemon' },
  { long: 'stop-daemon', arg: 'required', command: 'stop-daemon' },
  { long: 'help', short: 'h', arg: 'none' },
  { long: 'version', short: 'v', arg: 'none' },
  { long: 'tcp-service', short: 't', arg: 'required', cls: 'service-address' },
  { long: 'udp-service', short: 'u', arg: 'required', cls: 'service-address' },
  { long: 'sctp-service', arg: 'required', cls: 'service-address' },
  { long: 'fwmark-service', short: 'f', arg: 'required', cls: 'service-address' },
  { long: 'scheduler', short: 's', arg: 'required', cls: 'scheduler' },
  { long: 'persistent', short: 'p', arg: 'optional', cls: 'persistent' },
  { long: 'netmask', short: 'M', arg: 'required', cls: 'netmask' },
  { long: 'real-server', short: 'r', arg: 'required', cls: 'real-server' },
  { long: 'masquerading', short: 'm', arg: 'none', cls: 'forwarding-method' },
  { long: 'ipip', short: 'i', arg: 'none', cls: 'forwarding-method' },
  { long: 'gatewaying', short: 'g', arg: 'none', cls: 'forwarding-method' },
  { long: 'fullnat', arg: 'none', cls: 'forwarding-method' },
  { long: 'weight', short: 'w', arg: 'required', cls: 'weight' },
  { long: 'u-threshold', short: 'x', arg: 'required', cls: 'u-threshold' },
  { long: 'l-threshold', short: 'y', arg: 'required', cls: 'l-threshold' },
  { long: 'numeric', short: 'n', arg: 'none', cls: 'numeric' },
  { long: 'connection', short: 'c', arg: 'none', cls: 'connection' },
  { long: 'mcast-interface', arg: 'required', cls: 'mcast-interface' },
  { long: 'syncid', arg: 'required', cls: 'syncid' },
  { long: 'timeout', arg: 'none', cls: 'timeout' },
  { long: 'daemon', arg: 'none', cls: 'daemon' },
  { long: 'stats', arg: 'none', cls: 'stats' },
  { long: 'rate', arg: 'none', cls: 'rate' },
  { long: 'thresholds', arg: 'none', cls: 'thresholds' },
  { long: 'persistent-conn', arg: 'none', cls: 'persistent-conn' },
  { long: 'nosort', arg: 'none', cls: 'nosort' },
  { long: 'sort', arg: 'none', cls: null },
  { long: 'exact', short: 'X', arg: 'none', cls: 'exact' },
  { long: 'ipv6', short: '6', arg: 'none', cls: null },
  { long: 'ops', short: 'o', arg: 'none', cls: 'ops' },
  { long: 'pe', arg: 'required', cls: 'pe' },
  { long: 'sched-flags', short: 'b', arg: 'required', cls: 'sched-flags' },
  { long: 'tun-type', arg: 'required', cls: 'tun-type' },
];

/** One option as given: which definition, and its argument (null when none was given). */
export interface GivenOption {
  def: OptionDef;
  value: string | null;
  /** The argv word it came from, for messages. */
  word: string;
}

export interface ParsedArgs {
  command: Command | 'help' | 'version';
  options: GivenOption[];
  /** Non-option words (the --set values). */
  positional: string[];
}

function findLong(name: string): OptionDef | undefined {
  return DEFS.find((d) => d.long === name);
}

function findShort(c: string): OptionDef | undefined {
  return DEFS.find((d) => d.short === c);
}

/** Splits argv into options and words the way popt does. */
export function tokenize(argv: readonly string[]): { options: GivenOption[]; positional: string[] } {
  const options: GivenOption[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const def = findLong(name);
      if (!def) throw new AdmUsageError(`${word}: unknown option`);
      let value: string | null = eq < 0 ? null : word.slice(eq + 1);
      if (def.arg === 'none' && value !== null)
        throw new AdmUsageError(`${word}: option does not take an argument`);
      if (def.arg === 'required' && value === null) {
        if (i + 1 >= argv.length) throw new AdmUsageError(`${word}: missing argument`);
        value = argv[++i]!;
      }
      if (def.arg === 'optional' && value === null && i + 1 < argv.length && !argv[i + 1]!.startsWith('-'))
        value = argv[++i]!;
      options.push({ def, value, word });
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let k = 1; k < word.length; k++) {
        const def = findShort(word[k]!);
        if (!def) throw new AdmUsageError(`${word}: unknown option`);
        if (def.arg === 'none') {
          options.push({ def, value: null, word });
          continue;
        }
        let value: string | null = word.slice(k + 1) || null;
        if (
          value === null &&
          i + 1 < argv.length &&
          (def.arg === 'required' || !argv[i + 1]!.startsWith('-'))
        )
          value = argv[++i]!;
        if (value === null && def.arg === 'required') throw new AdmUsageError(`${word}: missing argument`);
        options.push({ def, value, word });
        break;
      }
      continue;
    }
    positional.push(word);
  }
  return { options, positional };
}

/** Tokenizes and applies ipvsadm's structural checks (first option a command, one command, repeats). */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { options, positional } = tokenize(argv);
  const first = options[0];
  if (!first) throw new AdmUsageError('', true);
  let command: ParsedArgs['command'];
  if (first.def.command) command = first.def.command;
  else if (first.def.long === 'help') command = 'help';
  else if (first.def.long === 'version') command = 'version';
  else throw new AdmUsageError('', true);
  const rest: GivenOption[] = [];
  const seen = new Set<OptionClass>();
  for (const o of options.slice(1)) {
    if (o.def.command) throw new AdmUsageError('multiple commands specified');
    if (o.def.long === 'help' || o.def.long === 'version')
      throw new AdmUsageError(`invalid option \`${o.word}'`);
    if (o.def.cls) {
      if (seen.has(o.def.cls)) throw new AdmUsageError(`multiple '${o.def.cls}' options specified`);
      seen.add(o.def.cls);
    }
    rest.push(o);
  }
  return { command, options: rest, positional };
}

/** ipvsadm's generic_opt_check: required, illegal and mutually exclusive options per command. */
export function checkOptions(command: Command, given: ReadonlySet<OptionClass>): void {
  const rules = TABLE[command];
  let exclusive: OptionClass | null = null;
  OPTIONS.forEach((opt) => {
    const rule = rules[opt];
    if (!given.has(opt)) {
      if (rule === '+')
        throw new AdmUsageError(`You need to supply the '${opt}' option for the '${command}' command`);
      return;
    }
    if (rule === 'x') throw new AdmUsageError(`Illegal '${opt}' option with the '${command}' command`);
    if (rule === '1') {
      if (exclusive === null) exclusive = opt;
      else
        throw new AdmUsageError(
          `The option '${opt}' conflicts with the '${exclusive}' option in the '${command}' command`,
        );
    }
  });
}
