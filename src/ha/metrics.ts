/**
 * HA metrics in a neutral shape the /metrics exporter renders (Prometheus text or anything else):
 * one family per metric, each sample with its labels. Names follow Prometheus conventions
 * (`_total` for counters). Plug in with `haMetrics(daemon.ha)`; a daemon without HA exports nothing.
 */
import type { HaController } from './controller.js';
import type { InstanceStatus } from './status.js';
import { DROP_REASONS } from './vrrp/receive.js';
import { VrrpState } from './vrrp/types.js';

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: MetricSample[];
}

type CounterKey = Exclude<keyof InstanceStatus['counters'], 'drops'>;

const COUNTERS: readonly [string, CounterKey, string][] = [
  ['tslvs_vrrp_adverts_sent_total', 'advertsSent', 'VRRP advertisements sent'],
  ['tslvs_vrrp_adverts_received_total', 'advertsReceived', 'VRRP advertisements received and accepted'],
  ['tslvs_vrrp_priority_zero_sent_total', 'priorityZeroSent', 'Priority-0 (resign) advertisements sent'],
  [
    'tslvs_vrrp_priority_zero_received_total',
    'priorityZeroReceived',
    'Priority-0 (resign) advertisements received',
  ],
  ['tslvs_vrrp_transitions_total', 'transitions', 'VRRP state transitions'],
  ['tslvs_vrrp_became_master_total', 'becameMaster', 'Transitions into MASTER'],
  ['tslvs_vrrp_left_master_total', 'leftMaster', 'Transitions out of MASTER'],
  [
    'tslvs_vrrp_master_conflicts_total',
    'masterConflicts',
    'Advertisements from another master heard while MASTER (split brain)',
  ],
  ['tslvs_vrrp_send_errors_total', 'sendErrors', 'Advertisements the kernel refused to send'],
  [
    'tslvs_vrrp_address_list_errors_total',
    'addressListErrors',
    'Accepted advertisements listing other virtual addresses',
  ],
  [
    'tslvs_vrrp_interval_mismatches_total',
    'intervalMismatches',
    'VRRPv3 advertisements with another interval than ours',
  ],
  ['tslvs_vrrp_vip_errors_total', 'vipErrors', 'Failed virtual address additions or removals'],
  ['tslvs_vrrp_announcements_total', 'announcements', 'Gratuitous ARP / unsolicited NA frames sent'],
];

const STATES = [VrrpState.INIT, VrrpState.BACKUP, VrrpState.MASTER, VrrpState.FAULT] as const;

/** Samples for every instance of `ha` (none when `ha` is null). */
export function haMetrics(ha: HaController | null): MetricFamily[] {
  const statuses = ha?.status().instances ?? [];
  const base = (s: InstanceStatus) => ({
    instance: s.name,
    vrid: String(s.virtualRouterId),
    interface: s.interface,
  });
  const families: MetricFamily[] = [
    {
      name: 'tslvs_vrrp_state',
      help: 'VRRP state of each instance: 1 for the current state, 0 for the others',
      type: 'gauge',
      samples: statuses.flatMap((s) =>
        STATES.map((st) => ({ labels: { ...base(s), state: st }, value: s.state === st ? 1 : 0 })),
      ),
    },
    {
      name: 'tslvs_vrrp_priority',
      help: 'Effective VRRP priority (configured priority adjusted by health tracking)',
      type: 'gauge',
      samples: statuses.map((s) => ({ labels: base(s), value: s.effectivePriority })),
    },
    {
      name: 'tslvs_vrrp_configured_priority',
      help: 'Configured VRRP priority',
      type: 'gauge',
      samples: statuses.map((s) => ({ labels: base(s), value: s.priority })),
    },
    {
      name: 'tslvs_vrrp_owns_addresses',
      help: '1 while this instance holds its virtual addresses',
      type: 'gauge',
      samples: statuses.map((s) => ({ labels: base(s), value: s.ownsVips ? 1 : 0 })),
    },
  ];
  for (const [name, key, help] of COUNTERS) {
    families.push({
      name,
      help,
      type: 'counter',
      samples: statuses.map((s) => ({ labels: base(s), value: s.counters[key] })),
    });
  }
  families.push({
    name: 'tslvs_vrrp_drops_total',
    help: 'Received VRRP packets dropped, by reason',
    type: 'counter',
    samples: statuses.flatMap((s) =>
      DROP_REASONS.map((reason) => ({ labels: { ...base(s), reason }, value: s.counters.drops[reason] })),
    ),
  });
  return families;
}
