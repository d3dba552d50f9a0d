/**
 * Owning the virtual addresses. A VRRP master must answer for its VIPs; how depends on the data plane:
 * - proxy mode: the kernel answers, so the VIPs are added to / removed from the interface
 *   (`InterfaceVips`, `ip addr add|del ADDR/LEN dev IF`, argv only);
 * - packet mode: the userspace data plane answers ARP/ND for them itself and implements `VipOwner`
 *   (`ownVips` = start answering, `releaseVips` = stop), so the kernel never holds them.
 * Announcing (gratuitous ARP / unsolicited NA) is separate (garp.ts) and happens after `ownVips` resolves.
 */
import { formatIp } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import { type CommandResult, type CommandRunner, runCommand } from './command.js';
import type { VirtualAddressSpec } from './spec.js';

export interface VipOwner {
  /** Start answering for these addresses. Idempotent: owning an owned address succeeds. */
  ownVips(instance: string, addresses: readonly VirtualAddressSpec[]): Promise<void>;
  /** Stop answering for them. Idempotent: releasing an address not held succeeds. */
  releaseVips(instance: string, addresses: readonly VirtualAddressSpec[]): Promise<void>;
}

const IP_TIMEOUT_MS = 5000;

/** `ip` says these when the address is already there / already gone: both mean "done". */
const ALREADY_ADDED = /File exists/i;
const ALREADY_GONE = /Cannot assign requested address|Address not found|No such address|does not exist/i;

export interface InterfaceVipsOptions {
  /** Default: spawn `ip` (argv, no shell). */
  run?: CommandRunner;
  /** Path or name of iproute2's `ip`; default `ip` from PATH. */
  ipCommand?: string;
}

/** Proxy mode: the VIPs live on the interface, so the kernel answers ARP/ND and accepts connections. */
export class InterfaceVips implements VipOwner {
  readonly #run: CommandRunner;
  readonly #ip: string;

  constructor(opts: InterfaceVipsOptions = {}) {
    this.#run = opts.run ?? runCommand;
    this.#ip = opts.ipCommand ?? 'ip';
  }

  /** The argv that adds (or removes) one address; exported through the class for tests and docs. */
  argv(op: 'add' | 'del', v: VirtualAddressSpec): string[] {
    const family = v.addr.family === 4 ? '-4' : '-6';
    const argv = [this.#ip, family, 'addr', op, `${formatIp(v.addr)}/${v.prefixLength}`, 'dev', v.interface];
    // An IPv6 VIP must be usable at once: no duplicate address detection (keepalived sets IFA_F_NODAD).
    if (op === 'add' && v.addr.family === 6) argv.push('nodad');
    return argv;
  }

  async ownVips(instance: string, addresses: readonly VirtualAddressSpec[]): Promise<void> {
    const failures: string[] = [];
    for (const v of addresses) {
      const r = await this.#run(this.argv('add', v), { timeoutMs: IP_TIMEOUT_MS });
      if (!succeeded(r, ALREADY_ADDED)) failures.push(describe(v, r));
    }
    if (failures.length > 0) throw vipError(instance, 'add', failures);
  }

  async releaseVips(instance: string, addresses: readonly VirtualAddressSpec[]): Promise<void> {
    const failures: string[] = [];
    for (const v of addresses) {
      const r = await this.#run(this.argv('del', v), { timeoutMs: IP_TIMEOUT_MS });
      if (!succeeded(r, ALREADY_GONE)) failures.push(describe(v, r));
    }
    if (failures.length > 0) throw vipError(instance, 'remove', failures);
  }
}

function succeeded(r: CommandResult, benign: RegExp): boolean {
  return r.code === 0 || (r.code !== null && benign.test(r.stderr));
}

function describe(v: VirtualAddressSpec, r: CommandResult): string {
  const why = r.error ?? (r.timedOut ? 'timed out' : r.stderr || `exit ${r.code ?? r.signal}`);
  return `${formatIp(v.addr)}/${v.prefixLength} dev ${v.interface}: ${why}`;
}

function vipError(instance: string, op: 'add' | 'remove', failures: string[]): TslvsError {
  return new TslvsError(
    ErrorCodes.ENVIRONMENT,
    `VRRP instance ${instance}: could not ${op} ${failures.length === 1 ? 'a virtual address' : 'virtual addresses'}: ${failures.join('; ')}`,
    { instance, failures },
  );
}

/** A VipOwner that only records what it was asked (tests, dry runs). */
export class RecordingVips implements VipOwner {
  readonly owned = new Map<string, Set<string>>();
  readonly calls: { op: 'own' | 'release'; instance: string; addresses: string[] }[] = [];

  async ownVips(instance: string, addresses: readonly VirtualAddressSpec[]): Promise<void> {
    const set = this.owned.get(instance) ?? new Set<string>();
    for (const a of addresses) set.add(formatIp(a.addr));
    this.owned.set(instance, set);
    this.calls.push({ op: 'own', instance, addresses: addresses.map((a) => formatIp(a.addr)) });
  }

  async releaseVips(instance: string, addresses: readonly VirtualAddressSpec[]): Promise<void> {
    const set = this.owned.get(instance);
    for (const a of addresses) set?.delete(formatIp(a.addr));
    this.calls.push({ op: 'release', instance, addresses: addresses.map((a) => formatIp(a.addr)) });
  }
}
