import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  formatEndpoint,
  formatIp,
  formatNetmask,
  maskIp,
  parseEndpoint,
  parseIp,
  parseIpv4Word,
  parseNetmask,
  tryParseIp,
} from '../../src/engine/addr.js';
import { isTslvsError } from '../../src/errors.js';

test('IPv4 and IPv6 parse and format round trip', () => {
  for (const s of [
    '0.0.0.0',
    '10.1.2.3',
    '255.255.255.255',
    '::',
    '::1',
    '2001:db8::1',
    'fe80::1:2:3:4',
    '1:2:3:4:5:6:7:8',
  ]) {
    assert.equal(formatIp(parseIp(s)), s);
  }
  assert.equal(formatIp(parseIp('2001:0db8:0:0:0:0:0:1')), '2001:db8::1');
  assert.equal(formatIp(parseIp('::ffff:10.0.0.1')), '::ffff:a00:1');
  assert.deepEqual(parseIp('10.0.0.1').words, [0x0a000001, 0, 0, 0]);
});

test('bad addresses are rejected with TSLVS_ERR_ADDRESS', () => {
  for (const s of ['', '1.2.3', '256.0.0.1', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'abc', '12345::']) {
    assert.equal(tryParseIp(s), null, s);
  }
  assert.throws(
    () => parseIp('nope'),
    (e) => isTslvsError(e, 'TSLVS_ERR_ADDRESS'),
  );
});

test('endpoints', () => {
  assert.equal(formatEndpoint(parseEndpoint('127.0.0.1:8080')), '127.0.0.1:8080');
  assert.equal(formatEndpoint(parseEndpoint('[::1]:53')), '[::1]:53');
  assert.equal(parseEndpoint('10.0.0.1', { defaultPort: 80 }).port, 80);
  assert.throws(() => parseEndpoint('10.0.0.1'), /missing :port/);
  assert.throws(() => parseEndpoint('10.0.0.1:0'), /out of range/);
  assert.equal(parseEndpoint('10.0.0.1:0', { allowZeroPort: true }).port, 0);
  assert.throws(() => parseEndpoint('10.0.0.1:70000'), /out of range/);
  assert.throws(() => parseEndpoint('::1:80'), /\[addr\]:port/);
});

test('netmasks and masking', () => {
  assert.equal(parseNetmask('255.255.255.0', 4), 24);
  assert.equal(parseNetmask('255.255.255.255', 4), 32);
  assert.equal(parseNetmask('0.0.0.0', 4), 0);
  assert.equal(parseNetmask(64, 6), 64);
  assert.equal(parseNetmask('/48', 6), 48);
  assert.throws(() => parseNetmask('255.0.255.0', 4), /netmask/);
  assert.throws(() => parseNetmask(129, 6), /netmask/);
  assert.equal(formatNetmask(24, 4), '255.255.255.0');
  assert.equal(formatIp(maskIp(parseIp('192.168.7.99'), 24)), '192.168.7.0');
  assert.equal(formatIp(maskIp(parseIp('2001:db8:1:2:3::9'), 48)), '2001:db8:1::');
  assert.equal(formatIp(maskIp(parseIp('10.1.2.3'), 0)), '0.0.0.0');
});

test('parseIpv4Word agrees with tryParseIp on dotted quads and refuses everything else', () => {
  for (const s of ['0.0.0.0', '127.0.0.1', '10.1.2.3', '255.255.255.255', '192.168.100.200']) {
    assert.equal(parseIpv4Word(s), tryParseIp(s)!.words[0], s);
  }
  for (const s of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1..2.3',
    '1.2.3.',
    '::1',
    '::ffff:1.2.3.4',
    'a.b.c.d',
    ' 1.2.3.4',
  ]) {
    assert.equal(parseIpv4Word(s), -1, s);
  }
  fc.assert(
    fc.property(fc.ipV4(), (s) => parseIpv4Word(s) === (tryParseIp(s)?.words[0] ?? -1)),
    { numRuns: 2000 },
  );
});
