/**
 * Notify hooks on state changes, with keepalived's conventions so existing scripts keep working:
 * - `notify.master|backup|fault|stop` (notify_master...) run with their argv exactly as configured;
 * - `notify.any` (keepalived's generic `notify`) gets `INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>`
 *   appended, as keepalived's notify_script_exec does.
 * Every hook also sees TSLVS_VRRP_INSTANCE / _STATE / _PRIORITY / _REASON in its environment.
 *
 * Hooks never block the state machine: they run in the background, one at a time per instance (so a
 * script sees transitions in order), without a shell, with a deadline after which their process group is
 * killed. Output tails are logged.
 */
import { type CommandResult, type CommandRunner, runCommand } from './command.js';
import type { HaLogger } from './logger.js';
import type { NotifySpec } from './spec.js';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

export interface NotifyEvent {
  instance: string;
  state: NotifyState;
  priority: number;
  reason: string;
}

export const NOTIFY_TIMEOUT_MS = 30_000;

export class NotifyQueue {
  #spec: NotifySpec;
  readonly #run: CommandRunner;
  readonly #log: HaLogger;
  readonly #timeoutMs: number;
  #queue: Promise<void> = Promise.resolve();
  runs = 0;
  failures = 0;

  constructor(spec: NotifySpec, log: HaLogger, opts: { run?: CommandRunner; timeoutMs?: number } = {}) {
    this.#spec = spec;
    this.#log = log;
    this.#run = opts.run ?? runCommand;
    this.#timeoutMs = opts.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  }

  /** New hooks (reload); transitions already queued keep the hooks they were queued with. */
  update(spec: NotifySpec): void {
    this.#spec = spec;
  }

  /** The argv lists a transition runs, in order (per-state hook first, then the generic one). */
  commandsFor(ev: NotifyEvent): string[][] {
    const s = this.#spec;
    const perState = { MASTER: s.master, BACKUP: s.backup, FAULT: s.fault, STOP: s.stop ?? null }[ev.state];
    const out: string[][] = [];
    if (perState && perState.length > 0) out.push([...perState]);
    if (s.any && s.any.length > 0)
      out.push([...s.any, 'INSTANCE', ev.instance, ev.state, String(ev.priority)]);
    return out;
  }

  /** Queues the hooks of one transition; resolves when they have run (callers need not wait). */
  notify(ev: NotifyEvent): Promise<void> {
    const commands = this.commandsFor(ev);
    if (commands.length === 0) return this.#queue;
    const env = {
      ...process.env,
      TSLVS_VRRP_INSTANCE: ev.instance,
      TSLVS_VRRP_STATE: ev.state,
      TSLVS_VRRP_PRIORITY: String(ev.priority),
      TSLVS_VRRP_REASON: ev.reason,
    };
    this.#queue = this.#queue.then(async () => {
      for (const argv of commands) {
        this.runs++;
        const r = await this.#run(argv, { timeoutMs: this.#timeoutMs, env });
        this.#report(ev, argv, r);
      }
    });
    return this.#queue;
  }

  /** Resolves once every queued hook has finished. */
  idle(): Promise<void> {
    return this.#queue;
  }

  #report(ev: NotifyEvent, argv: string[], r: CommandResult): void {
    const fields = {
      instance: ev.instance,
      state: ev.state,
      command: argv,
      code: r.code,
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.stdout ? { stdout: r.stdout } : {}),
      ...(r.stderr ? { stderr: r.stderr } : {}),
    };
    if (r.code === 0) {
      this.#log.info(fields, 'VRRP notify hook ran');
      return;
    }
    this.failures++;
    const why = r.error ?? (r.timedOut ? `killed after ${this.#timeoutMs}ms` : 'failed');
    this.#log.warn({ ...fields, error: why }, 'VRRP notify hook failed');
  }
}
