/**
 * Bookkeeping that makes the importer drop nothing silently: every statement of a block is either
 * taken by the translator or, when the block is finished, reported as not translated, with its
 * file and line.
 */
import type { Position } from './lexer.js';
import { type ConfNode, statementText } from './parser.js';

export interface ImportNote extends Position {
  /** untranslated: left out of the output; changed: translated, but not exactly (read the reason). */
  kind: 'untranslated' | 'changed';
  statement: string;
  reason: string;
}

export class Reporter {
  readonly notes: ImportNote[] = [];
  untranslated(at: Position, statement: string, reason: string): void {
    this.notes.push({ kind: 'untranslated', file: at.file, line: at.line, statement, reason });
  }
  changed(at: Position, statement: string, reason: string): void {
    this.notes.push({ kind: 'changed', file: at.file, line: at.line, statement, reason });
  }
  skip(node: ConfNode, reason: string): void {
    this.untranslated(node, node.children ? `${statementText(node)} { ... }` : statementText(node), reason);
  }
}

/** Why tslvs has no equivalent, for keywords users commonly have. */
const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
  router_id: 'tslvs has no router id (keepalived uses it in logs and e-mails only)',
  notification_email: 'tslvs sends no e-mail; use VRRP notify scripts',
  notification_email_from: 'tslvs sends no e-mail; use VRRP notify scripts',
  smtp_server: 'tslvs sends no e-mail; use VRRP notify scripts',
  smtp_connect_timeout: 'tslvs sends no e-mail; use VRRP notify scripts',
  smtp_alert: 'tslvs sends no e-mail; use VRRP notify scripts',
  enable_script_security: 'tslvs runs scripts as its own user, without a shell',
  script_user: 'tslvs runs scripts as its own user, without a shell',
  lvs_sync_daemon: 'configure session sync (ha.sync) by hand',
  lvs_sync_daemon_interface: 'configure session sync (ha.sync) by hand',
  lvs_flush: 'tslvs starts with an empty service table',
  vrrp_strict: 'not supported',
  vrrp_skip_check_adv_addr: 'not supported',
  vrrp_script: 'VRRP track scripts are not supported; tslvs tracks its own services (ha.vrrp[].trackHealth)',
  track_script: 'VRRP track scripts are not supported; tslvs tracks its own services (ha.vrrp[].trackHealth)',
  track_interface: 'interface tracking is not supported',
  track_file: 'file tracking is not supported',
  track_process: 'process tracking is not supported',
  vrrp_sync_group: 'VRRP sync groups are not supported; give the instances the same priorities and peers',
  static_ipaddress: 'static addresses are not managed by tslvs; configure them on the host',
  static_routes: 'static routes are not managed by tslvs; configure them on the host',
  static_rules: 'static rules are not managed by tslvs; configure them on the host',
  virtual_routes: 'VRRP-managed routes are not supported',
  virtual_rules: 'VRRP-managed rules are not supported',
  virtual_ipaddress_excluded:
    'tslvs has one list of virtual addresses; add them to virtualAddresses if they should move',
  notify: 'notify scripts are supported in vrrp_instance only',
  notify_up: 'real-server notify scripts are not supported',
  notify_down: 'real-server notify scripts are not supported',
  quorum_up: 'quorum scripts are not supported',
  quorum_down: 'quorum scripts are not supported',
  use_vmac: 'VMAC interfaces are not supported',
  dont_track_primary: 'not supported',
  garp_lower_prio_repeat: 'not supported',
  virtual_server_group: 'virtual server groups are not supported: write one service per address',
  persistence_engine: 'persistence engines (SIP) are not supported',
  ha_suspend: 'not supported',
  alpha:
    'tslvs starts every real server as up and takes it out after `fall` failures (alpha starts them down)',
  omega: 'not supported (omega runs quorum_down at shutdown)',
  digest: 'body digests are not supported; use bodyRegex',
  misc_dynamic: 'weights from the exit status are not supported',
  user: 'tslvs runs checks as its own user',
  PING_CHECK: 'ICMP checks are not supported',
  UDP_CHECK:
    'keepalived UDP_CHECK is not translated (tslvs udp checks need a reply); write a udp health check by hand',
  BFD_CHECK: 'BFD is not supported',
  FILE_CHECK: 'file checks are not supported',
};

/** A block's children, with each one marked when the translator takes it. */
export class Scope {
  readonly #used = new Set<ConfNode>();
  constructor(
    readonly children: readonly ConfNode[],
    readonly report: Reporter,
  ) {}

  static of(node: ConfNode, report: Reporter): Scope {
    return new Scope(node.children ?? [], report);
  }

  all(name: string): ConfNode[] {
    const found = this.children.filter((c) => c.name === name);
    for (const n of found) this.#used.add(n);
    return found;
  }

  /** The last statement `name` (keepalived lets a later one override); earlier ones are reported. */
  last(...names: string[]): ConfNode | undefined {
    const found = names
      .flatMap((n) => this.all(n))
      .sort((a, b) => this.children.indexOf(a) - this.children.indexOf(b));
    const winner = found.at(-1);
    for (const n of found.slice(0, -1)) {
      this.report.untranslated(n, statementText(n), `overridden by line ${winner!.line}`);
    }
    return winner;
  }

  /** Marks one statement as handled (when the translator reports it itself). */
  take(node: ConfNode): void {
    this.#used.add(node);
  }

  has(name: string): boolean {
    return this.last(name) !== undefined;
  }

  /** Reports every statement nobody took. */
  finish(): void {
    for (const child of this.children) {
      if (this.#used.has(child)) continue;
      this.#used.add(child);
      this.report.skip(child, KNOWN_UNSUPPORTED[child.name] ?? unknownReason(child));
    }
  }
}

function unknownReason(node: ConfNode): string {
  if (node.name.startsWith('@')) return 'conditional configuration (@id) is not supported';
  if (node.name.startsWith('$')) return 'keepalived definitions ($NAME=...) are not supported';
  if (node.name.startsWith('~')) return 'keepalived ~SEQ is not supported';
  return 'unknown or unsupported keyword';
}

/** keepalived's check_true_false plus "no value" meaning true. */
export function flagValue(node: ConfNode): boolean | null {
  const v = node.args[0];
  if (v === undefined || v === 'true' || v === 'on' || v === 'yes') return true;
  if (v === 'false' || v === 'off' || v === 'no') return false;
  return null;
}

export function knownReason(name: string): string | undefined {
  return KNOWN_UNSUPPORTED[name];
}
