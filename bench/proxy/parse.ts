/**
 * Pure readers for what the proxy benchmark's tools print: /proc/<pid>/stat and smaps_rollup, wrk's
 * summary, iperf3's JSON report and bench/proxy/udptool's one line. Each returns null (or throws with the
 * text) rather than a guess when the text is not what it expects.
 */

/** utime + stime of a whole process (all threads), in clock ticks, from /proc/<pid>/stat. */
export function parseStatTicks(stat: string): number | null {
  // The command name (field 2) is in parentheses and may itself hold spaces or ')': skip to the last one.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) return null;
  return utime + stime;
}

/** Proportional set size in bytes from /proc/<pid>/smaps_rollup (or smaps), null if absent. */
export function parsePssBytes(smaps: string): number | null {
  let total = 0;
  let seen = false;
  for (const m of smaps.matchAll(/^Pss:\s+(\d+) kB$/gm)) {
    total += Number(m[1]);
    seen = true;
  }
  return seen ? total * 1024 : null;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  /** requests / seconds as wrk measured them. */
  rps: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

const TIME_UNITS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** wrk's text summary ("N requests in 5.00s, ..."), null if the summary line is missing. */
export function parseWrk(text: string): WrkResult | null {
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m.exec(text);
  if (!total) return null;
  const requests = Number(total[1]);
  const seconds = Number(total[2]) * TIME_UNITS[total[3]!]!;
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

export interface IperfResult {
  /** Bytes the server received. */
  bytes: number;
  seconds: number;
  bitsPerSecond: number;
}

/** iperf3 -J: the receiver's totals; throws with iperf3's own error message when it reports one. */
export function parseIperf3(json: string): IperfResult {
  let doc: {
    error?: string;
    end?: { sum_received?: { bytes?: number; seconds?: number; bits_per_second?: number } };
  };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    throw new Error(`iperf3 printed no JSON report: ${json.slice(0, 200)}`);
  }
  if (doc.error) throw new Error(`iperf3: ${doc.error}`);
  const r = doc.end?.sum_received;
  if (!r || typeof r.bytes !== 'number' || typeof r.seconds !== 'number' || r.seconds <= 0) {
    throw new Error('iperf3 report has no end.sum_received totals');
  }
  return {
    bytes: r.bytes,
    seconds: r.seconds,
    bitsPerSecond: r.bits_per_second ?? (r.bytes * 8) / r.seconds,
  };
}

export interface UdpLoadResult {
  sent: number;
  received: number;
  lost: number;
  seconds: number;
}

/** udptool load's line: "sent S received R lost L seconds T". */
export function parseUdpLoad(text: string): UdpLoadResult | null {
  const m = /^sent (\d+) received (\d+) lost (\d+) seconds ([\d.]+)$/m.exec(text);
  if (!m) return null;
  return { sent: Number(m[1]), received: Number(m[2]), lost: Number(m[3]), seconds: Number(m[4]) };
}
