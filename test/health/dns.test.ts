import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { ErrorCodes, isTslvsError } from '../../src/errors.js';
import { createDnsChecker, encodeDnsQuery } from '../../src/health/dns.js';
import type { DnsSpec } from '../../src/health/spec.js';
import { programSkipReason } from '../helpers/env.js';
import { activeResources, assertNoLeak, BASE, loopback, portOf, signal } from './support.js';

const dns = (over: Partial<DnsSpec> = {}): DnsSpec => ({
  ...BASE,
  kind: 'dns',
  query: 'example.test',
  queryType: 'A',
  ...over,
});

/** A UDP server that answers each query with the datagrams `answer(query)` returns, in order. */
async function fakeDns(answer: (q: Buffer) => Buffer[]): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (q, rinfo) => {
    for (const d of answer(q)) socket.send(d, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: portOf(socket) };
}

/** A response header for query `q`: same id, QR set, the given rcode, `ancount` answers claimed. */
function response(
  q: Buffer,
  rcode: number,
  opts: { id?: number; qr?: boolean; ancount?: number } = {},
): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE(opts.id ?? q.readUInt16BE(0), 0);
  r[2] = (opts.qr === false ? 0 : 0x80) | 0x01; // QR, RD echoed
  r[3] = 0x80 | rcode; // RA
  r.writeUInt16BE(opts.ancount ?? 0, 6);
  return r;
}

test('dns: the query is RFC 1035 wire format (RD, one question, class IN)', () => {
  const q = encodeDnsQuery(0x1234, 'example.com', 1);
  assert.equal(q.toString('hex'), '123401000001000000000000076578616d706c6503636f6d0000010001');
  assert.equal(
    encodeDnsQuery(1, '.', 6).subarray(12).toString('hex'),
    '0000060001',
    'the root is one zero byte',
  );
  assert.equal(encodeDnsQuery(1, 'a.b.', 1).subarray(12).toString('hex'), '01610162000001' + '0001');
});

test('dns: NOERROR is up; an error rcode is down; other ids and non-responses are ignored', async () => {
  const cases: [string, (q: Buffer) => Buffer[], boolean, string][] = [
    ['noerror', (q) => [response(q, 0, { ancount: 1 })], true, 'NOERROR, 1 answer(s)'],
    ['servfail', (q) => [response(q, 2)], false, 'rcode SERVFAIL'],
    ['nxdomain', (q) => [response(q, 3)], false, 'rcode NXDOMAIN'],
    [
      'stray datagrams first',
      (q) => [response(q, 2, { id: q.readUInt16BE(0) ^ 1 }), response(q, 2, { qr: false }), response(q, 0)],
      true,
      'NOERROR, 0 answer(s)',
    ],
  ];
  for (const [what, answer, ok, reason] of cases) {
    const { socket, port } = await fakeDns(answer);
    try {
      const baseline = activeResources();
      const r = await createDnsChecker(dns()).check(loopback(port), signal());
      assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok, reason }, what);
      await assertNoLeak(baseline, ['UDPWrap', 'Timeout']);
    } finally {
      socket.close();
    }
  }
});

test('dns: a silent server times out; no listener fails at once (ICMP port unreachable)', async () => {
  const { socket, port } = await fakeDns(() => []);
  try {
    const r = await createDnsChecker(dns({ timeoutMs: 200 })).check(loopback(port), signal());
    assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'timeout after 200ms' });
  } finally {
    socket.close();
  }
  const r = await createDnsChecker(dns({ timeoutMs: 5000 })).check(loopback(port), signal());
  assert.equal(r.reason, 'ICMP port unreachable (ECONNREFUSED)');
  assert.ok(r.durationMs < 5000);
});

test('dns: an unknown type or an unencodable name is refused when the checker is built', () => {
  for (const over of [{ queryType: 'BOGUS' }, { query: 'a..b' }, { query: `${'x'.repeat(64)}.com` }]) {
    assert.throws(
      () => createDnsChecker(dns(over)),
      (e: unknown) => isTslvsError(e) && e.code === ErrorCodes.INVALID_ARGUMENT,
      JSON.stringify(over),
    );
  }
});

const dnsmasqSkip = programSkipReason('dnsmasq');

test('dns: against dnsmasq, a name it serves is up and one it refuses is down', {
  skip: dnsmasqSkip ?? false,
}, async () => {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = portOf(probe);
  probe.close();
  const child = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      '--log-facility=-',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--address=/example.test/192.0.2.7',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const t = setTimeout(() => reject(new Error(`dnsmasq did not start: ${text}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
        if (/started/.test(text)) {
          clearTimeout(t);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`dnsmasq exited ${code}: ${text}`)));
    });
    const up = await createDnsChecker(dns()).check(loopback(port), signal());
    assert.deepEqual({ ok: up.ok, reason: up.reason }, { ok: true, reason: 'NOERROR, 1 answer(s)' });
    const down = await createDnsChecker(dns({ query: 'nothing.invalid' })).check(loopback(port), signal());
    assert.equal(down.ok, false);
    assert.match(down.reason, /^rcode /);
  } finally {
    child.kill();
  }
});
