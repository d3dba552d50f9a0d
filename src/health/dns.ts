/**
 * DNS check (keepalived DNS_CHECK): one query over UDP — recursion desired, a random id, `queryType`
 * records of `query` (SOA of the root by default, as keepalived) — and the RS is up when a response with that id
 * answers it with RCODE 0 (NOERROR). A datagram that is not the response to our query (another id, not a
 * response) is ignored, as keepalived does; the socket is connected, so an ICMP port unreachable fails
 * the check at once (ECONNREFUSED).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { formatIp } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker, HealthTarget, Outcome } from './checker.js';
import { checkPort, runWithDeadline, settleOnce } from './checker.js';
import type { DnsSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

/** RFC 1035 §3.2.2 and later RFCs: the record types keepalived's DNS_CHECK accepts, and a few more. */
export const DNS_TYPES: Readonly<Record<string, number>> = Object.freeze({
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  RRSIG: 46,
  DNSKEY: 48,
});

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** The query in wire format (RFC 1035 §4.1); throws for a name that cannot be encoded. */
export function encodeDnsQuery(id: number, name: string, type: number): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  parts.push(header);
  let total = 1;
  for (const l of labels) {
    const bytes = Buffer.from(l, 'ascii');
    if (bytes.length === 0 || bytes.length > 63 || !/^[\x21-\x7e]+$/.test(l)) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `dns check query '${name}': bad label '${l}'`, {
        field: 'query',
        value: name,
      });
    }
    total += bytes.length + 1;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  if (total > 255) {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `dns check query '${name}' is longer than 255 bytes`, {
      field: 'name',
      value: name,
    });
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3); // class IN
  parts.push(tail);
  return Buffer.concat(parts);
}

export function createDnsChecker(spec: DnsSpec, timers: Timers = realTimers): Checker {
  const type = DNS_TYPES[spec.queryType.toUpperCase()];
  if (type === undefined) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `dns check queryType '${spec.queryType}' is not one of ${Object.keys(DNS_TYPES).join(', ')}`,
      { field: 'queryType', value: spec.queryType },
    );
  }
  encodeDnsQuery(0, spec.query, type); // validates the name once
  return {
    check: (target, signal) =>
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) =>
        dnsExchange(target, spec.port, encodeDnsQuery(randomInt(0, 65536), spec.query, type), inner),
      ),
  };
}

function dnsExchange(
  target: HealthTarget,
  portOverride: number | undefined,
  query: Buffer,
  signal: AbortSignal,
): Promise<Outcome> {
  const id = query.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    const socket = createSocket(target.address.family === 6 ? 'udp6' : 'udp4');
    const once = settleOnce<Outcome>(resolve, reject, () => {
      signal.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // already closed by a failed bind/connect
      }
    });
    const onAbort = () => once.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        once.ok({ ok: false, reason: 'ICMP port unreachable (ECONNREFUSED)', detail: err.message });
      } else once.fail(err);
    });
    socket.on('message', (msg) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2]! & 0x80) === 0) return;
      const rcode = msg[3]! & 0x0f;
      if (rcode === 0) once.ok({ ok: true, reason: `NOERROR, ${msg.readUInt16BE(6)} answer(s)` });
      else once.ok({ ok: false, reason: `rcode ${RCODE_NAMES[rcode] ?? rcode}` });
    });
    socket.connect(checkPort(target, portOverride), formatIp(target.address), () => {
      if (once.done) return;
      socket.send(query, (err) => {
        if (err) once.fail(err);
      });
    });
  });
}
