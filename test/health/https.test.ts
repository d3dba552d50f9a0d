import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { createHttpChecker } from '../../src/health/http.js';
import type { HttpSpec } from '../../src/health/spec.js';
import { programSkipReason } from '../helpers/env.js';
import { BASE, closeServer, listen, loopback, signal } from './support.js';

/** A self-signed certificate made at test time (Node 20 cannot build X.509 itself). */
function makeCert(dir: string): { key: Buffer; cert: Buffer } | string {
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=tslvs-health-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:rs1.example',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return `openssl could not make a certificate: ${r.stderr.trim()}`;
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

const skip = programSkipReason('openssl');
const dir = mkdtempSync(join(tmpdir(), 'tslvs-https-'));
let port = 0;
const serverNames: (string | false | null)[] = [];
let server: ReturnType<typeof createServer> | undefined;
let certProblem: string | null = skip;

before(async () => {
  if (certProblem) return;
  const made = makeCert(dir);
  if (typeof made === 'string') {
    certProblem = made;
    return;
  }
  server = createServer(made, (req, res) => res.writeHead(req.url === '/ok' ? 200 : 500).end('secure ok'));
  server.on('secureConnection', (s: TLSSocket) => serverNames.push(s.servername));
  port = await listen(server);
});

after(async () => {
  if (server) await closeServer(server);
  rmSync(dir, { recursive: true, force: true });
});

const https = (over: Partial<HttpSpec> = {}): HttpSpec => ({
  ...BASE,
  kind: 'https',
  method: 'GET',
  path: '/ok',
  expectStatus: [200],
  bodyRegex: 'secure',
  tlsVerify: false,
  ...over,
});

test('https: a self-signed certificate is accepted without verification', async (t) => {
  if (certProblem) return t.skip(certProblem);
  const r = await createHttpChecker(https()).check(loopback(port), signal());
  assert.equal(r.ok, true, r.reason);
  assert.equal(r.reason, 'http status 200, body matched /secure/');
});

test('https: the same certificate is rejected with tlsVerify', async (t) => {
  if (certProblem) return t.skip(certProblem);
  const r = await createHttpChecker(https({ tlsVerify: true })).check(loopback(port), signal());
  assert.equal(r.ok, false);
  assert.match(r.reason, /SELF_SIGNED/);
});

test('https: SNI is sent from sni, else from a host name, never an IP literal', async (t) => {
  if (certProblem) return t.skip(certProblem);
  serverNames.length = 0;
  for (const over of [{ sni: 'rs1.example' }, { host: 'www.example.test:8443' }, {}]) {
    const r = await createHttpChecker(https(over)).check(loopback(port), signal());
    assert.equal(r.ok, true, r.reason);
  }
  assert.deepEqual(serverNames, ['rs1.example', 'www.example.test', false]);
});
