/**
 * Reading keepalived values (numbers, seconds, addresses, script command lines) with a note when one
 * cannot be used, so a bad value is listed rather than guessed.
 */
import { formatEndpoint, formatIp, tryParseIp } from '../../engine/addr.js';
import { formatDuration } from '../config/duration.js';
import { splitCommand } from './lexer.js';
import { type ConfNode, rawStatement, statementText } from './parser.js';
import type { Reporter } from './scope.js';

export function readNumber(
  node: ConfNode | undefined,
  report: Reporter,
  opts: { min?: number; max?: number; integer?: boolean; index?: number } = {},
): number | undefined {
  if (!node) return undefined;
  const text = node.args[opts.index ?? 0];
  const n = text !== undefined && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, integer = true } = opts;
  if (Number.isNaN(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    const range = `${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''}`;
    report.untranslated(node, statementText(node), `the value must be ${range}`);
    return undefined;
  }
  return n;
}

/** keepalived timers are seconds, fractions allowed; returned as a tslvs duration string. */
export function readSeconds(node: ConfNode | undefined, report: Reporter, min = 0): string | undefined {
  const s = readNumber(node, report, { min, integer: false });
  return s === undefined ? undefined : formatDuration(Math.round(s * 1000));
}

export function secondsText(seconds: number): string {
  return formatDuration(Math.round(seconds * 1000));
}

/** "IP PORT" arguments as a tslvs endpoint string ("[v6]:port" for IPv6), or why they are not one. */
export function readEndpoint(node: ConfNode, index = 0): { text: string; port: number } | { error: string } {
  const addr = tryParseIp(node.args[index] ?? '');
  const portText = node.args[index + 1];
  const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!addr) return { error: `'${node.args[index] ?? ''}' is not an IP address` };
  if (port === 0) return { error: 'port 0 (all ports) is not supported' };
  if (!(port >= 1 && port <= 65535)) return { error: 'needs a port from 1 to 65535' };
  return { text: formatEndpoint({ addr, port }), port };
}

export function readIp(text: string | undefined): string | undefined {
  const addr = tryParseIp(text ?? '');
  return addr ? formatIp(addr) : undefined;
}

/** Characters a shell would have interpreted; their presence means the script relied on one. */
const SHELL_SYNTAX = /[|&;<>`$*?(){}]|^~/;

/**
 * A script statement (misc_path, notify_master...) as argv, the way keepalived 2 builds it: the line
 * is split with quotes and escapes, the first argument is split again (so "cmd arg" in double quotes
 * is a command with an argument). Extra unquoted words are kept, with a note.
 */
export function readCommand(node: ConfNode, report: Reporter): string[] | undefined {
  const words = splitCommand(rawStatement(node)).slice(1);
  const first = words[0];
  if (first === undefined || first.trim() === '') {
    report.untranslated(node, statementText(node), 'no command given');
    return undefined;
  }
  const argv = [...splitCommand(first), ...words.slice(1)];
  if (argv.length === 0) {
    report.untranslated(node, statementText(node), 'no command given');
    return undefined;
  }
  let reason =
    'split into an argv list and run without a shell (as keepalived 2 does; keepalived 1.x used /bin/sh -c)';
  if (words.length > 1) {
    reason +=
      '; the unquoted words after the command were kept as arguments (keepalived 2 ignores them: quote the whole command)';
  }
  if (argv.some((a) => SHELL_SYNTAX.test(a))) {
    reason +=
      '; it contains shell syntax, which is passed literally: use ["/bin/sh", "-c", "..."] if you need a shell';
  }
  report.changed(node, rawStatement(node), reason);
  return argv;
}
