/**
 * DNS check (keepalived DNS_CHECK): one query over UDP — recursion desired, a random id, `queryType`
 * records of `query` (SOA of the root by default, as keepalived) — and the RS is up when a response with that id
 * answers it with RCODE 0 (NOERROR). A datagram that is not the response to our query (another id, not a
 * response) is ignored, as keepalived does; the socket is connected, so an ICMP port unreachable fails
 * the check at once (ECONNREFUSED).
 */
import { randomInt } from 'node:crypto';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker, Outcome } from './checker.js';
import { runWithDeadline } from './checker.js';
import type { DnsSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';
import { udpExchange } from './udp.js';

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
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) => {
        const id = randomInt(0, 65536);
        return udpExchange(target, spec.port, encodeDnsQuery(id, spec.query, type), inner, (msg) =>
          judgeResponse(id, msg),
        );
      }),
  };
}

/** The outcome of a response to query `id`; null for a datagram that is not one (keep waiting). */
function judgeResponse(id: number, msg: Buffer): Outcome | null {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id || (msg[2]! & 0x80) === 0) return null;
  const rcode = msg[3]! & 0x0f;
  if (rcode === 0) return { ok: true, reason: `NOERROR, ${msg.readUInt16BE(6)} answer(s)` };
  return { ok: false, reason: `rcode ${RCODE_NAMES[rcode] ?? rcode}` };
}
