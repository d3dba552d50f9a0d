import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { completeReply, createSmtpChecker } from '../../src/health/smtp.js';
import type { SmtpSpec } from '../../src/health/spec.js';
import { programSkipReason } from '../helpers/env.js';
import { activeResources, assertNoLeak, BASE, closeServer, listen, loopback, signal } from './support.js';

const smtp = (over: Partial<SmtpSpec> = {}): SmtpSpec => ({
  ...BASE,
  kind: 'smtp',
  helo: 'lb.example',
  ...over,
});

/** A scripted SMTP server: `greeting` on connect, then `answer(line)` for each command line received. */
async function fakeSmtp(greeting: string, answer: (line: string, sock: Socket) => string | null) {
  const lines: string[] = [];
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.write(greeting);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        lines.push(line);
        const a = answer(line, sock);
        if (a !== null) sock.write(a);
      }
    });
  });
  const port = await listen(server);
  return { server, port, lines };
}

test('smtp: a reply is complete at a line whose code is followed by a space (RFC 5321 4.2.1)', () => {
  assert.equal(completeReply('220 ready'), null, 'no CRLF yet');
  assert.equal(completeReply('220-first\r\n'), null, 'a continuation line');
  assert.deepEqual(completeReply('220-first\r\n220 second\r\n'), {
    code: 220,
    text: '220-first | 220 second',
  });
  assert.deepEqual(completeReply('250\r\n'), { code: 250, text: '250' });
  assert.deepEqual(
    completeReply('220-a\n220 b\n'),
    { code: 220, text: '220-a | 220 b' },
    'bare LF line ends',
  );
});

test('smtp: greeting 220 (multi-line), 250 to HELO, then QUIT: up', async () => {
  const { server, port, lines } = await fakeSmtp('220-mx.example ESMTP\r\n220 welcome\r\n', (l, s) => {
    if (l.startsWith('HELO ')) return '250 mx.example\r\n';
    if (l === 'QUIT') {
      s.end('221 bye\r\n');
      return null;
    }
    return '500 what\r\n';
  });
  try {
    const baseline = activeResources();
    const r = await createSmtpChecker(smtp()).check(loopback(port), signal());
    assert.deepEqual(
      { ok: r.ok, reason: r.reason },
      { ok: true, reason: 'smtp 220, and 250 to HELO lb.example' },
    );
    assert.deepEqual(lines, ['HELO lb.example', 'QUIT']);
    await assertNoLeak(baseline, ['TCPWrap', 'Timeout']);
  } finally {
    await closeServer(server);
  }
});

test('smtp: a refusing greeting, a rejected HELO or a close mid-dialogue is down, with the reason', async () => {
  const cases: [string, (l: string, s: Socket) => string | null, string][] = [
    ['554 no service\r\n', () => null, 'smtp greeting: 554, expected 220'],
    ['220 hi\r\n', () => '501 bad helo\r\n', 'smtp helo: 501, expected 250'],
    [
      '220 hi\r\n',
      (_l, s) => {
        s.end();
        return null;
      },
      'connection closed during the helo',
    ],
  ];
  for (const [greeting, answer, reason] of cases) {
    const { server, port } = await fakeSmtp(greeting, answer);
    try {
      const r = await createSmtpChecker(smtp()).check(loopback(port), signal());
      assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason }, greeting);
    } finally {
      await closeServer(server);
    }
  }
});

test('smtp: a server that never greets times out', async () => {
  const { server, port } = await fakeSmtp('', () => null);
  try {
    const r = await createSmtpChecker(smtp({ timeoutMs: 200 })).check(loopback(port), signal());
    assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'timeout after 200ms' });
  } finally {
    await closeServer(server);
  }
});

// A real SMTP server: Python's smtpd (Debian's python3 3.11 still ships it).
const python = programSkipReason('python3');

test('smtp: against Python smtpd the check is up', { skip: python ?? false }, async () => {
  const probe = createServer();
  const port = await listen(probe);
  await closeServer(probe);
  const child = spawn(
    'python3',
    ['-W', 'ignore', '-m', 'smtpd', '-n', '-c', 'DebuggingServer', `127.0.0.1:${port}`],
    {
      stdio: 'ignore',
    },
  );
  try {
    const deadline = Date.now() + 10_000;
    let r = await createSmtpChecker(smtp()).check(loopback(port), signal());
    while (!r.ok && /ECONNREFUSED/.test(r.reason) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100)); // the server is still starting: poll, bounded
      r = await createSmtpChecker(smtp()).check(loopback(port), signal());
    }
    assert.deepEqual(
      { ok: r.ok, reason: r.reason },
      { ok: true, reason: 'smtp 220, and 250 to HELO lb.example' },
    );
  } finally {
    child.kill();
  }
});
