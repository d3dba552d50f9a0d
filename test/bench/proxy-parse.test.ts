import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  parseIperf3,
  parsePssBytes,
  parseStatTicks,
  parseUdpLoad,
  parseWrk,
} from '../../bench/proxy/parse.js';

test('parseStatTicks adds utime and stime, past a command name holding spaces and parentheses', () => {
  // Fields 3..15: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime.
  const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 9000 0 12 0 1234 567 0 0 20 0 11 0 100 0 0';
  assert.equal(parseStatTicks(stat), 1234 + 567);
  assert.equal(parseStatTicks('4242 node S 1'), null);
  assert.equal(parseStatTicks('4242 (x) S 1 2 3'), null);
  const own = parseStatTicks(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(own !== null && Number.isInteger(own) && own >= 0);
});

test('parsePssBytes reads smaps_rollup, and sums per-mapping smaps', () => {
  const rollup = [
    '55d0c0a00000-7ffd2c5fe000 ---p 00000000 00:00 0                          [rollup]',
    'Rss:               48212 kB',
    'Pss:               41870 kB',
    'Pss_Anon:          30112 kB',
    'Shared_Clean:       9000 kB',
  ].join('\n');
  assert.equal(parsePssBytes(rollup), 41870 * 1024);
  assert.equal(parsePssBytes('Pss:  10 kB\nRss: 3 kB\nPss:  5 kB\n'), 15 * 1024);
  assert.equal(parsePssBytes('Rss: 3 kB\n'), null);
});

const WRK = `Running 2s test @ http://127.0.0.1:36039/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.64ms    1.01ms  17.73ms   87.65%
    Req/Sec    31.05k     2.10k   33.62k    75.00%
  61803 requests in 2.00s, 13.79MB read
  Socket errors: connect 0, read 12, write 1, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  30808.19
Transfer/sec:      6.88MB
`;

test('parseWrk reads the totals, socket errors and non-2xx answers', () => {
  const r = parseWrk(WRK);
  assert.ok(r);
  assert.equal(r.requests, 61803);
  assert.equal(r.seconds, 2);
  assert.equal(r.rps, 61803 / 2);
  assert.deepEqual(r.socketErrors, { connect: 0, read: 12, write: 1, timeout: 3 });
  assert.equal(r.non2xx, 7);
});

test('parseWrk: no error lines mean zero; other time units; no summary is null', () => {
  const clean = WRK.replace(/ {2}Socket errors.*\n {2}Non-2xx.*\n/, '').replace('in 2.00s', 'in 1.00m');
  const r = parseWrk(clean);
  assert.ok(r);
  assert.equal(r.seconds, 60);
  assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(r.non2xx, 0);
  assert.equal(parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n'), null);
});

test("parseIperf3 takes the receiver's totals and surfaces iperf3's error", () => {
  const ok = JSON.stringify({
    start: { connected: [] },
    intervals: [],
    end: {
      sum_sent: { seconds: 2.0, bytes: 2_000_000_000, bits_per_second: 8e9 },
      sum_received: { seconds: 2.000_4, bytes: 1_999_000_000, bits_per_second: 7.99e9 },
    },
  });
  assert.deepEqual(parseIperf3(ok), { bytes: 1_999_000_000, seconds: 2.000_4, bitsPerSecond: 7.99e9 });
  const refused = JSON.stringify({
    start: {},
    intervals: [],
    end: {},
    error: 'unable to connect to server: Connection refused',
  });
  assert.throws(() => parseIperf3(refused), /iperf3: unable to connect to server: Connection refused/);
  assert.throws(() => parseIperf3('{"end": {}}'), /no end\.sum_received/);
  assert.throws(() => parseIperf3('iperf3: error'), /no JSON report/);
});

test('parseUdpLoad reads the one line udptool prints', () => {
  assert.deepEqual(parseUdpLoad('sent 427257 received 427129 lost 64 seconds 2.000\n'), {
    sent: 427257,
    received: 427129,
    lost: 64,
    seconds: 2,
  });
  assert.equal(parseUdpLoad('udptool: PORT must be an integer\n'), null);
});
