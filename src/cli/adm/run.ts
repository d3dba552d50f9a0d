/**
 * `tslvs adm`: runs one ipvsadm command against the daemon's admin API and prints what ipvsadm prints.
 * Exit status: 0 done, 2 usage error (ipvsadm's fail(2)), 1 the daemon refused or could not be reached.
 */
import type { ServiceView } from '../../control/api/views.js';
import type { ConnSnapshot } from '../../engine/snapshot.js';
import { type ErrorCode, ErrorCodes, isTslvsError, TslvsError } from '../../errors.js';
import { ApiClient, serverUrl } from '../api-client.js';
import {
  addServerBody,
  addServiceBody,
  batchAction,
  editServerChanges,
  editServiceChanges,
  endpointText,
  serverAddress,
  serviceId,
} from './bodies.js';
import { type AdmCommand, toCommand } from './command.js';
import { connectionLine, connectionsHeader, listAll, listService, saveRules, timeoutLine } from './format.js';
import { AdmUsageError, parseArgs } from './options.js';
import { parseRestore } from './restore.js';
import { TRY_HELP, USAGE, VERSION_LINE } from './usage.js';

export interface AdmIo {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
}

const PAGE = 1000;

/** libipvs's ipvs_strerror texts for the errors a command can meet. */
function ipvsMessage(cmd: AdmCommand['cmd'], code: ErrorCode): string | null {
  const server = cmd === 'add-server' || cmd === 'edit-server' || cmd === 'delete-server';
  if (code === ErrorCodes.SERVICE_EXISTS && cmd === 'add-service') return 'Service already exists';
  if (code === ErrorCodes.SERVICE_NOT_FOUND) return server ? 'Service not defined' : 'No such service';
  if (code === ErrorCodes.DEST_EXISTS) return 'Destination already exists';
  if (code === ErrorCodes.DEST_NOT_FOUND) return 'No such destination';
  return null;
}

/** Strips tslvs's own options (--server) from anywhere in argv. */
function splitServer(argv: readonly string[]): { server: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let server: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--server') {
      if (i + 1 >= argv.length) throw new AdmUsageError('--server: missing argument');
      server = argv[++i];
    } else if (a.startsWith('--server=')) server = a.slice('--server='.length);
    else rest.push(a);
  }
  return { server, rest };
}

class Session {
  readonly #client: ApiClient;
  #dataplane: string | null = null;

  constructor(client: ApiClient) {
    this.#client = client;
  }

  get<T>(path: string): Promise<T> {
    return this.#client.request<T>('GET', path);
  }

  /** A change; like ipvsadm, success prints nothing (the API's answer keeps the config warnings). */
  async change(method: string, path: string, body?: unknown): Promise<void> {
    await this.#client.request(method, path, body);
  }

  async packetMode(): Promise<boolean> {
    this.#dataplane ??= (await this.get<{ dataplane: string }>('/v1/status')).dataplane;
    return this.#dataplane === 'packet';
  }
}

const svcPath = (c: { service: Parameters<typeof serviceId>[0] }) =>
  `/v1/services/${encodeURIComponent(serviceId(c.service))}`;

async function execute(c: AdmCommand, s: Session, io: AdmIo): Promise<void> {
  switch (c.cmd) {
    case 'help':
      io.out(USAGE);
      return;
    case 'version':
      io.out(`${VERSION_LINE}\n`);
      return;
    case 'list':
      return list(c, s, io);
    case 'save': {
      const { services } = await s.get<{ services: ServiceView[] }>('/v1/services');
      io.out(saveRules(services, c.format));
      return;
    }
    case 'flush':
      return s.change('DELETE', '/v1/services');
    case 'add-service':
      return s.change('POST', '/v1/services', addServiceBody(c));
    case 'edit-service': {
      const current = await s.get<ServiceView>(svcPath(c));
      return s.change('PATCH', svcPath(c), editServiceChanges(c, current.config.scheduler));
    }
    case 'delete-service':
      return s.change('DELETE', svcPath(c));
    case 'add-server':
      return s.change('POST', `${svcPath(c)}/realservers`, addServerBody(c, await s.packetMode()));
    case 'edit-server': {
      const rs = encodeURIComponent(serverAddress(c, await s.packetMode()));
      return s.change('PATCH', `${svcPath(c)}/realservers/${rs}`, editServerChanges(c));
    }
    case 'delete-server':
      return s.change('DELETE', `${svcPath(c)}/realservers/${encodeURIComponent(endpointText(c.server))}`);
    case 'set':
      return s.change('PUT', '/v1/timeouts', { tcp: c.tcp, tcpFin: c.tcpFin, udp: c.udp });
    case 'zero':
      await s.change(
        'POST',
        c.service ? `/v1/zero?service=${encodeURIComponent(serviceId(c.service))}` : '/v1/zero',
      );
      return;
    case 'restore':
      return restore(s, io);
  }
}

async function list(c: Extract<AdmCommand, { cmd: 'list' }>, s: Session, io: AdmIo): Promise<void> {
  switch (c.what) {
    case 'timeout':
      io.out(timeoutLine(await s.get('/v1/timeouts')));
      return;
    case 'daemon':
      return; // no IPVS sync daemon runs: ipvsadm prints nothing then
    case 'service':
      io.out(listService(await s.get<ServiceView>(svcPath({ service: c.service! })), c.format));
      return;
    case 'connections': {
      io.out(connectionsHeader(c.format));
      let offset = 0;
      for (;;) {
        const page = await s.get<{ total: number; items: ConnSnapshot[] }>(
          `/v1/connections?offset=${offset}&limit=${PAGE}`,
        );
        for (const item of page.items) io.out(connectionLine(item));
        offset += page.items.length;
        if (page.items.length === 0 || offset >= page.total) return;
      }
    }
    case 'all': {
      const [{ services }, status] = await Promise.all([
        s.get<{ services: ServiceView[] }>('/v1/services'),
        s.get<{ conntable: { capacity: number } }>('/v1/status'),
      ]);
      io.out(listAll(services, status.conntable.capacity, c.format));
      return;
    }
  }
}

async function restore(s: Session, io: AdmIo): Promise<void> {
  const lines = parseRestore(await io.readStdin());
  if (lines.length === 0) return;
  const packet = await s.packetMode();
  const actions = lines.map((l) => batchAction(l.command, packet));
  try {
    await s.change('POST', '/v1/batch', { actions });
  } catch (err) {
    const index = isTslvsError(err) ? (err.details.action as number | undefined) : undefined;
    const line = lines[index ?? -1];
    if (line && isTslvsError(err)) {
      const known = ipvsMessage(line.command.cmd, err.code);
      throw new TslvsError(err.code, `line ${line.line}: ${known ?? err.message}`, err.details);
    }
    throw err;
  }
}

function describeFailure(c: AdmCommand | null, err: TslvsError): string {
  const known = c && c.cmd !== 'restore' ? ipvsMessage(c.cmd, err.code) : null;
  if (known) return known;
  // A restore names the failing line, in ipvsadm's words where it has some.
  if (c?.cmd === 'restore' && err.details.action !== undefined && err.code !== ErrorCodes.CONFIG)
    return err.message;
  const issues = (err.details.issues as { text?: string; message: string }[] | undefined) ?? [];
  const lines = issues.length > 1 ? issues.map((i) => `  ${i.text ?? i.message}`) : [];
  const hint = err.code === ErrorCodes.UNAUTHORIZED ? ' (set TSLVS_TOKEN to the admin token)' : '';
  return [`tslvs adm: ${err.message}${hint}`, ...lines].join('\n');
}

export async function runAdm(argv: readonly string[], io: AdmIo): Promise<number> {
  let command: AdmCommand | null = null;
  try {
    const { server, rest } = splitServer(argv);
    command = rest.length === 0 ? toCommand(parseArgs(['-L'])) : toCommand(parseArgs(rest));
    const client = new ApiClient({ server: serverUrl(null, server), token: io.env.TSLVS_TOKEN ?? null });
    await execute(command, new Session(client), io);
    return 0;
  } catch (err) {
    if (err instanceof AdmUsageError) {
      if (err.message) io.err(`${err.message}\n`);
      if (err.tryHelp) io.err(`${TRY_HELP}\n`);
      return 2;
    }
    if (isTslvsError(err)) {
      io.err(`${describeFailure(command, err)}\n`);
      return 1;
    }
    throw err;
  }
}
