/**
 * keepalived checkers (TCP_CHECK, HTTP_GET, SSL_GET, DNS_CHECK, SMTP_CHECK, MISC_CHECK) -> one tslvs
 * health block.
 *
 * keepalived checks every delay_loop; a failure is retried `retry` times (delay_before_retry apart)
 * before the server goes down, and one success brings it back. So: interval = delay_loop, rise = 1,
 * fall = retry + 1. tslvs re-checks at the interval, not after delay_before_retry (noted when set).
 */
import { tryParseIp } from '../../engine/addr.js';
import { isDnsName } from '../config/schema.js';
import type { ConfNode } from './parser.js';
import { statementText } from './parser.js';
import { type Reporter, Scope } from './scope.js';
import { readCommand, readNumber, readSeconds, secondsText } from './values.js';

/** Timer settings that cascade virtual_server -> real_server -> checker (keepalived 2). */
export interface CheckTiming {
  delayLoop?: ConfNode;
  connectTimeout?: ConfNode;
  retry?: ConfNode;
  delayBeforeRetry?: ConfNode;
  warmup?: ConfNode;
}

/** keepalived's defaults: delay_loop 60 s, connect_timeout 5 s, retry 1 (MISC_CHECK 0). */
const DEFAULT_DELAY_LOOP_S = 60;
const DEFAULT_CONNECT_TIMEOUT_S = 5;

export type RawHealth = Record<string, unknown>;

/** Takes the timer keywords present in `scope` over those inherited. */
export function takeTiming(scope: Scope, inherited: CheckTiming): CheckTiming {
  return {
    delayLoop: scope.last('delay_loop') ?? inherited.delayLoop,
    connectTimeout: scope.last('connect_timeout') ?? inherited.connectTimeout,
    retry: scope.last('retry', 'nb_get_retry') ?? inherited.retry,
    delayBeforeRetry: scope.last('delay_before_retry') ?? inherited.delayBeforeRetry,
    warmup: scope.last('warmup') ?? inherited.warmup,
  };
}

const CHECKERS = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'DNS_CHECK', 'SMTP_CHECK', 'MISC_CHECK']);

/** keepalived's DNS_CHECK record types (check_dns.c); tslvs knows each. */
const DNS_TYPES = new Set(['A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SRV', 'RRSIG', 'DNSKEY']);
/** keepalived's SMTP_CHECK default helo_name. */
const KEEPALIVED_HELO = 'smtpchecker.keepalived.org';

export function isTranslatableChecker(name: string): boolean {
  return CHECKERS.has(name);
}

export function translateChecker(
  node: ConfNode,
  inherited: CheckTiming,
  rs: { ip: string; defaultHost?: string },
  report: Reporter,
): RawHealth {
  const scope = Scope.of(node, report);
  const timing = takeTiming(scope, inherited);
  const misc = node.name === 'MISC_CHECK';
  const intervalSeconds =
    readNumber(timing.delayLoop, report, { min: 0.001, integer: false }) ?? DEFAULT_DELAY_LOOP_S;
  // keepalived's default retry: 1, but 0 for MISC_CHECK and 3 for DNS_CHECK (DNS_DEFAULT_RETRY).
  const defaultRetry = misc ? 0 : node.name === 'DNS_CHECK' ? 3 : 1;
  const retry = readNumber(timing.retry, report, { min: 0, max: 999 }) ?? defaultRetry;
  const health: RawHealth = { kind: 'tcp', interval: secondsText(intervalSeconds) };
  if (!misc)
    health.timeout =
      readSeconds(timing.connectTimeout, report, 0.001) ?? secondsText(DEFAULT_CONNECT_TIMEOUT_S);
  health.rise = 1;
  health.fall = retry + 1;
  if (timing.delayBeforeRetry && retry > 0) {
    const n = timing.delayBeforeRetry;
    report.changed(
      n,
      statementText(n),
      `tslvs retries at the check interval (${health.interval}), not after delay_before_retry`,
    );
  }
  if (timing.warmup)
    report.untranslated(timing.warmup, statementText(timing.warmup), 'warmup delays are not supported');
  if (!misc) connectOptions(scope, rs.ip, health, report);
  switch (node.name) {
    case 'HTTP_GET':
    case 'SSL_GET':
      httpCheck(node, scope, health, rs.defaultHost, report);
      break;
    case 'DNS_CHECK': {
      health.kind = 'dns';
      const type = scope.last('type');
      const wanted = type?.args[0]?.toUpperCase();
      if (wanted && DNS_TYPES.has(wanted)) health.queryType = wanted;
      else {
        if (type) report.changed(type, statementText(type), 'unknown record type: SOA, as keepalived does');
        health.queryType = 'SOA';
      }
      const name = scope.last('name');
      const query = name?.args[0] ?? '.';
      if (isDnsName(query)) health.query = query;
      else {
        report.changed(
          name!,
          statementText(name!),
          'not an ASCII domain name tslvs can query: the root (.) was written',
        );
        health.query = '.';
      }
      break;
    }
    case 'SMTP_CHECK': {
      health.kind = 'smtp';
      health.helo = scope.last('helo_name')?.args[0] ?? KEEPALIVED_HELO;
      for (const host of scope.all('host')) {
        report.untranslated(
          host,
          'host { ... }',
          'SMTP_CHECK host blocks (extra addresses) are not supported',
        );
      }
      break;
    }
    case 'MISC_CHECK': {
      health.kind = 'exec';
      const path = scope.last('misc_path');
      const command = path ? readCommand(path, report) : undefined;
      if (command) health.command = command;
      else {
        report.untranslated(
          node,
          statementText(node),
          'MISC_CHECK without a usable misc_path: the server gets no check',
        );
        health.kind = 'none';
      }
      health.timeout = readSeconds(scope.last('misc_timeout'), report, 0.001) ?? health.interval;
      break;
    }
  }
  scope.finish();
  return health;
}

function connectOptions(scope: Scope, rsIp: string, health: RawHealth, report: Reporter): void {
  const port = readNumber(scope.last('connect_port'), report, { min: 1, max: 65535 });
  if (port !== undefined) health.port = port;
  const ip = scope.last('connect_ip');
  if (ip) {
    const a = tryParseIp(ip.args[0] ?? '');
    const b = tryParseIp(rsIp);
    const same = a && b && a.family === b.family && a.words.every((w, i) => w === b.words[i]);
    if (!same)
      report.untranslated(
        ip,
        statementText(ip),
        'checking another address than the real server is not supported',
      );
  }
}

function httpCheck(
  node: ConfNode,
  scope: Scope,
  health: RawHealth,
  defaultHost: string | undefined,
  report: Reporter,
) {
  health.kind = node.name === 'SSL_GET' ? 'https' : 'http';
  const host = scope.last('virtualhost')?.args[0] ?? defaultHost;
  const urls = scope.all('url');
  const [url, ...others] = urls;
  for (const other of others) {
    report.untranslated(
      other,
      'url { ... }',
      'tslvs checks one URL per server; only the first url block is translated',
    );
  }
  health.path = '/';
  let status: (number | string)[] | undefined;
  let urlHost: string | undefined;
  if (url) {
    const u = Scope.of(url, report);
    const path = u.last('path')?.args[0];
    if (path) health.path = path.startsWith('/') ? path : `/${path}`;
    const code = u.last('status_code');
    if (code) status = code.args.map((a) => (/^\d+$/.test(a) ? Number(a) : a));
    urlHost = u.last('virtualhost')?.args[0];
    const regex = u.last('regex');
    if (regex?.args[0]) health.bodyRegex = regex.args[0];
    u.finish();
  } else {
    report.changed(node, statementText(node), 'no url block: checks GET /');
  }
  if (urlHost ?? host) health.host = urlHost ?? host;
  // keepalived accepts any 2xx when no status_code is given.
  health.expectStatus = status === undefined ? '200-299' : status.length === 1 ? status[0] : status;
  if (health.kind === 'https') health.tlsVerify = false;
}
