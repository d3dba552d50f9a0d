/**
 * IPVS's TCP connection-tracking state machine as data, from `net/netfilter/ipvs/ip_vs_proto_tcp.c`
 * (`tcp_states`, `tcp_states_dos`, `tcp_timeouts`, `tcp_state_active_table`). IPVS tracks a connection
 * from the middle, so these are not RFC 9293's endpoint states but its coarse view of them; the names
 * and numbering are IPVS's (enum order sNO..sSA) so `ipvsadm -Lc` shows what LVS users expect.
 */

export const TcpState = Object.freeze({
  NONE: 0,
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT: 4,
  TIME_WAIT: 5,
  CLOSE: 6,
  CLOSE_WAIT: 7,
  LAST_ACK: 8,
  LISTEN: 9,
  SYNACK: 10,
});
export type TcpStateValue = (typeof TcpState)[keyof typeof TcpState];
export const TCP_STATE_COUNT = 11;

export const TCP_STATE_NAMES = Object.freeze([
  'NONE',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'SYNACK',
] as const);

/** Which side sent the packet, as IPVS's table offsets: client->director, RS->director, or no replies seen. */
export const Dir = Object.freeze({ INPUT: 0, OUTPUT: 4, INPUT_ONLY: 8 });
export type DirValue = (typeof Dir)[keyof typeof Dir];

/** TCP header flag bits (RFC 9293 §3.1). */
export const TcpFlag = Object.freeze({ FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 });

/**
 * `tcp_state_idx`: RST beats SYN beats FIN beats ACK; -1 when none is set, which `set_tcp_state` turns
 * into CLOSE.
 */
export function tcpFlagIndex(flags: number): number {
  if (flags & TcpFlag.RST) return 3;
  if (flags & TcpFlag.SYN) return 0;
  if (flags & TcpFlag.FIN) return 1;
  if (flags & TcpFlag.ACK) return 2;
  return -1;
}

const NO = 0;
const ES = 1;
const SS = 2;
const SR = 3;
const FW = 4;
const TW = 5;
const CL = 6;
const CW = 7;
const LA = 8;
const LI = 9;
const SA = 10;

// Rows: (direction offset + flag index); columns: current state.
// biome-ignore format: the table reads as the kernel's
const NORMAL = [
  //        sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA
  /* IN syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
  /* IN fin */ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
  /* IN ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
  /* IN rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  /* OUT syn */ [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
  /* OUT fin */ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
  /* OUT ack */ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
  /* OUT rst */ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  /* INONLY syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
  /* INONLY fin */ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
  /* INONLY ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
  /* INONLY rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
];

// `tcp_states_dos` (secure_tcp): a bare ACK no longer establishes a half-open connection and SYNs park
// in SYNACK, so a flood of spoofed packets cannot make entries look established.
// biome-ignore format: the table reads as the kernel's
const DEFENCE = [
  //        sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA
  /* IN syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
  /* IN fin */ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
  /* IN ack */ [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
  /* IN rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  /* OUT syn */ [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
  /* OUT fin */ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
  /* OUT ack */ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
  /* OUT rst */ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  /* INONLY syn */ [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
  /* INONLY fin */ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
  /* INONLY ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
  /* INONLY rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
];

function flatten(rows: number[][]): Uint8Array {
  const t = new Uint8Array(rows.length * TCP_STATE_COUNT);
  rows.forEach((r, i) => {
    t.set(r, i * TCP_STATE_COUNT);
  });
  return t;
}

const NORMAL_T = flatten(NORMAL);
const DEFENCE_T = flatten(DEFENCE);

/**
 * The next state for a packet with `flags` arriving in direction `dir` (a `Dir` offset) in `state`.
 * `defence` selects `tcp_states_dos`.
 */
export function nextTcpState(state: number, dir: number, flags: number, defence: boolean): number {
  const idx = tcpFlagIndex(flags);
  if (idx < 0) return CL;
  return (defence ? DEFENCE_T : NORMAL_T)[(dir + idx) * TCP_STATE_COUNT + state]!;
}

/** `tcp_state_active_table` (recent kernels): these states count as active connections for lc/wlc. */
export function isActiveTcpState(state: number): boolean {
  return state === ES || state === SS || state === SR || state === SA;
}

/** Half-open states: the first to be evicted when the table is full (`ip_vs_random_dropentry`). */
export function isHalfOpenTcpState(state: number): boolean {
  return state === SR || state === SA || state === SS || state === NO;
}

/** `tcp_timeouts`, in seconds. */
export const DEFAULT_TCP_TIMEOUTS_S = Object.freeze([2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120]);
export const DEFAULT_UDP_TIMEOUT_S = 300;
/** A new connection's timeout before its first packet runs the state machine (`ip_vs_conn_new`). */
export const NEW_CONN_TIMEOUT_S = 3;
/** Timeout given to a template that still controls connections when it expires (`ip_vs_conn_expire`). */
export const TEMPLATE_BUSY_TIMEOUT_S = 60;
