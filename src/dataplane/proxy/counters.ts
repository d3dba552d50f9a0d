/** Proxy data-plane counters: named, monotonically increasing, kept in one Float64Array. */
export const ProxyCounter = Object.freeze({
  ACCEPTED: 0,
  NO_DEST: 1,
  CONNECT_FAILED: 2,
  CONNECT_RETRIED: 3,
  CONNECT_TIMEOUT: 4,
  CLIENT_ERRORS: 5,
  UPSTREAM_ERRORS: 6,
  IDLE_TIMEOUTS: 7,
  EXPIRED: 8,
  UDP_SESSIONS: 9,
  UDP_DATAGRAMS_IN: 10,
  UDP_DATAGRAMS_OUT: 11,
  UDP_SEND_ERRORS: 12,
  UDP_NO_DEST: 13,
  REFUSED_STOPPING: 14,
  ADDRESS_UNPARSABLE: 15,
});

export const PROXY_COUNTER_NAMES = Object.freeze([
  'accepted',
  'no_dest',
  'connect_failed',
  'connect_retried',
  'connect_timeout',
  'client_errors',
  'upstream_errors',
  'idle_timeouts',
  'expired',
  'udp_sessions',
  'udp_datagrams_in',
  'udp_datagrams_out',
  'udp_send_errors',
  'udp_no_dest',
  'refused_stopping',
  'address_unparsable',
] as const);

export function newProxyCounters(): Float64Array {
  return new Float64Array(PROXY_COUNTER_NAMES.length);
}
