/**
 * The `ha` section: VRRP instances (keepalived's vrrp_instance, RFC 3768 / RFC 5798) and session
 * sync. Defaults follow keepalived so an imported keepalived.conf behaves the same.
 */
import { type Family, formatIp } from '../../engine/addr.js';
import type { IssueList, IssuePath } from './issues.js';
import type { RawConfig, RawVrrp } from './schema.js';
import { type NormalizeContext, readSecret } from './secrets.js';
import type { HaConfig, ServiceConfig, SyncConfig, VirtualAddress, VrrpInstanceConfig } from './types.js';

/** keepalived's defaults: VRRPv2, priority 100, 1 s adverts, 5 gratuitous ARPs 5 s after MASTER. */
export const VRRP_DEFAULTS = Object.freeze({
  version: 2 as const,
  priority: 100,
  advertIntervalMs: 1000,
  garpRepeat: 5,
  garpDelayMs: 5000,
  trackWeight: 0,
});

/** Session sync: a full refresh every 30 s; a starting director waits up to 3 s for a snapshot. */
export const SYNC_DEFAULTS = Object.freeze({ refreshIntervalMs: 30_000, snapshotWaitMs: 3000 });

export function normalizeHa(
  raw: RawConfig['ha'],
  services: readonly ServiceConfig[],
  ctx: NormalizeContext,
  issues: IssueList,
): HaConfig {
  const names = new Map<string, number>();
  const vrids = new Map<string, number>();
  const vrrp: VrrpInstanceConfig[] = [];
  (raw?.vrrp ?? []).forEach((inst, i) => {
    const path = ['ha', 'vrrp', i];
    const dupName = names.get(inst.name);
    if (dupName !== undefined)
      issues.error([...path, 'name'], `duplicate instance name (also ha.vrrp[${dupName}])`);
    names.set(inst.name, i);
    const out = normalizeInstance(inst, path, services, issues);
    // A VRID identifies a router per interface and family (RFC 5798 section 5.2.3).
    const vridKey = `${inst.interface}/${out.virtualAddresses[0]?.addr.family}/${inst.virtualRouterId}`;
    const dupVrid = vrids.get(vridKey);
    if (dupVrid !== undefined) {
      issues.error(
        [...path, 'virtualRouterId'],
        `is already used on ${inst.interface} by ha.vrrp[${dupVrid}]`,
      );
    }
    vrids.set(vridKey, i);
    vrrp.push(out);
  });
  const sync = raw?.sync ? normalizeSync(raw.sync, ctx, issues) : null;
  if (sync !== null) {
    const followed = sync.instance;
    if (followed !== null && !vrrp.some((v) => v.name === followed))
      issues.error(['ha', 'sync', 'instance'], `no VRRP instance is named '${followed}'`);
    else if (vrrp.length === 0)
      issues.warn(
        ['ha', 'sync'],
        'no VRRP instance: this director never becomes the sync master, it only receives',
      );
  }
  return { vrrp, sync };
}

function normalizeInstance(
  inst: RawVrrp,
  path: IssuePath,
  services: readonly ServiceConfig[],
  issues: IssueList,
): VrrpInstanceConfig {
  const version = inst.version ?? VRRP_DEFAULTS.version;
  const advertIntervalMs = inst.advertInterval ?? VRRP_DEFAULTS.advertIntervalMs;
  if (version === 2 && advertIntervalMs % 1000 !== 0) {
    issues.error(
      [...path, 'advertInterval'],
      'VRRPv2 counts whole seconds; use version: 3 for sub-second adverts',
    );
  }
  if (version === 3 && advertIntervalMs > 40_950) {
    issues.error([...path, 'advertInterval'], 'VRRPv3 allows at most 40.95s (12 bits of centiseconds)');
  }
  const virtualAddresses: VirtualAddress[] = inst.virtualAddresses.map((v) => {
    const entry = 'address' in v ? v : { address: v, interface: undefined };
    const bits = entry.address.addr.family === 4 ? 32 : 128;
    return {
      addr: entry.address.addr,
      prefixLength: entry.address.prefixLength ?? bits,
      interface: entry.interface ?? inst.interface,
    };
  });
  const family: Family = virtualAddresses[0]?.addr.family ?? 4;
  virtualAddresses.forEach((v, j) => {
    if (v.addr.family !== family) {
      issues.error(
        [...path, 'virtualAddresses', j],
        'mixes address families: one VRRP instance serves one family',
      );
    }
  });
  if (version === 2 && family === 6)
    issues.error([...path, 'version'], 'VRRPv2 is IPv4 only; use version: 3 for IPv6');
  (inst.unicastPeers ?? []).forEach((p, j) => {
    if (p.family !== family) issues.error([...path, 'unicastPeers', j], `${formatIp(p)} is not IPv${family}`);
  });
  if (inst.unicastSource && inst.unicastSource.family !== family) {
    issues.error([...path, 'unicastSource'], `is not IPv${family}`);
  }
  if (inst.authPass !== undefined && version !== 2) {
    issues.error([...path, 'authPass'], 'authentication exists in VRRPv2 only (RFC 5798 removed it)');
  }
  const trackHealth = (inst.trackHealth ?? []).map((t, j) => {
    if (!services.some((s) => s.name === t.service)) {
      issues.error([...path, 'trackHealth', j, 'service'], `no service is named '${t.service}'`);
    }
    return { service: t.service, weight: t.weight ?? VRRP_DEFAULTS.trackWeight };
  });
  return {
    name: inst.name,
    interface: inst.interface,
    virtualRouterId: inst.virtualRouterId,
    priority: inst.priority ?? VRRP_DEFAULTS.priority,
    advertIntervalMs,
    version,
    preempt: inst.preempt ?? true,
    preemptDelayMs: inst.preemptDelay ?? 0,
    unicastSource: inst.unicastSource ?? null,
    unicastPeers: inst.unicastPeers ?? [],
    virtualAddresses,
    trackHealth,
    authPass: inst.authPass ?? null,
    garp: {
      repeat: inst.garp?.repeat ?? VRRP_DEFAULTS.garpRepeat,
      refreshMs: inst.garp?.refresh ?? 0,
      delayMs: inst.garp?.delay ?? VRRP_DEFAULTS.garpDelayMs,
    },
    notify: {
      master: inst.notify?.master ?? null,
      backup: inst.notify?.backup ?? null,
      fault: inst.notify?.fault ?? null,
      stop: inst.notify?.stop ?? null,
      any: inst.notify?.any ?? null,
    },
  };
}

function normalizeSync(
  raw: NonNullable<NonNullable<RawConfig['ha']>['sync']>,
  ctx: NormalizeContext,
  issues: IssueList,
): SyncConfig | null {
  const path = ['ha', 'sync'];
  let key: string | null = null;
  if (raw.key !== undefined && raw.keyFile !== undefined)
    issues.error([...path, 'keyFile'], 'give either key or keyFile, not both');
  else if (raw.key !== undefined) key = raw.key;
  else if (raw.keyFile !== undefined) key = readSecret(ctx, raw.keyFile, [...path, 'keyFile'], issues);
  else issues.error([...path, 'key'], 'is required (or keyFile): sync messages are authenticated');
  if (key !== null && key.length < 16)
    issues.error([...path, raw.key !== undefined ? 'key' : 'keyFile'], 'must be at least 16 characters');
  return key === null
    ? null
    : {
        listen: raw.listen,
        peers: raw.peers,
        key,
        instance: raw.instance ?? null,
        refreshIntervalMs: raw.refreshInterval ?? SYNC_DEFAULTS.refreshIntervalMs,
        snapshotWaitMs: raw.snapshotWait ?? SYNC_DEFAULTS.snapshotWaitMs,
      };
}
