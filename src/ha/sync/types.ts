/**
 * Session sync's settings, counters and status as plain data: the settings travel from the daemon to the
 * packet worker (structured clone), the status comes back the same way.
 */
import type { Endpoint } from '../../engine/addr.js';

export interface SyncOptions {
  listen: Endpoint;
  peers: Endpoint[];
  /** HMAC key (both directors hold the same). */
  key: string;
  /** A full walk of the table re-sends every live session this often (master only). */
  refreshIntervalMs: number;
  /** How long a starting director waits for a snapshot before it goes on without one. */
  snapshotWaitMs: number;
  /** Snapshot streams are paced to this many datagrams per second (each up to 1400 bytes). */
  snapshotRate?: number;
  /** Sender start time, ms; defaults to Date.now() (tests pin it). */
  epoch?: number;
}

/**
 * 2000 datagrams/s (about 60k IPv4 sessions/s, 2.8 MB/s): what a receiving packet worker drains from a
 * default-sized socket buffer between its packet slices.
 */
export const DEFAULT_SNAPSHOT_RATE = 2000;

export const SyncCounter = Object.freeze({
  DATAGRAMS_SENT: 0,
  RECORDS_SENT: 1,
  DELTA_RECORDS_SENT: 2,
  REFRESH_RECORDS_SENT: 3,
  SNAPSHOT_RECORDS_SENT: 4,
  SNAPSHOTS_SERVED: 5,
  SNAPSHOT_REQUESTS_SENT: 6,
  DATAGRAMS_RECEIVED: 7,
  RECORDS_INSTALLED: 8,
  SNAPSHOT_RECORDS_RECEIVED: 9,
  SNAPSHOTS_RECEIVED: 10,
  SNAPSHOT_REQUESTS_RECEIVED: 11,
  UNKNOWN_PEER: 12,
  MALFORMED: 13,
  BAD_AUTH: 14,
  REPLAYED: 15,
  STALE_EPOCH: 16,
  PEER_RESTARTS: 17,
  UNKNOWN_SERVICE: 18,
  UNKNOWN_DEST: 19,
  UNKNOWN_LOCAL_ADDRESS: 20,
  TABLE_FULL: 21,
  INVALID_RECORD: 22,
  SNAPSHOT_RECORDS_IGNORED: 23,
});

export const SYNC_COUNTER_NAMES = Object.freeze([
  'datagrams_sent',
  'records_sent',
  'delta_records_sent',
  'refresh_records_sent',
  'snapshot_records_sent',
  'snapshots_served',
  'snapshot_requests_sent',
  'datagrams_received',
  'records_installed',
  'snapshot_records_received',
  'snapshots_received',
  'snapshot_requests_received',
  'unknown_peer',
  'malformed',
  'bad_auth',
  'replayed',
  'stale_epoch',
  'peer_restarts',
  'unknown_service',
  'unknown_dest',
  'unknown_local_address',
  'table_full',
  'invalid_record',
  'snapshot_records_ignored',
] as const);

/** `waiting` until a snapshot arrived (`done`), every peer said it had none (`done`), or time ran out. */
export type SnapshotState = 'idle' | 'waiting' | 'done' | 'timed-out';

export interface SyncPeerStatus {
  peer: string;
  /** The peer's start time (ms since the epoch) as its datagrams say; null before we heard it. */
  epoch: number | null;
  lastSeq: number;
  /** Datagrams skipped in its sequence (lost, or reordered beyond the window). */
  lost: number;
  lastHeardMsAgo: number | null;
}

export interface SyncStatus {
  role: 'master' | 'backup';
  listen: string;
  epoch: number;
  sessions: number;
  journal: { queued: number; capacity: number; overflows: number };
  snapshot: { state: SnapshotState; stream: number; received: number; from: string | null };
  /** Snapshot streams being served. */
  serving: Array<{ peer: string; stream: number; sent: number }>;
  peers: SyncPeerStatus[];
  counters: Record<string, number>;
  sendErrors: number;
  lastError: string | null;
}
