import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { libc } from '../../../src/dataplane/packet/libc.js';
import { freePort, startDaemon } from '../../helpers/daemon.js';

// The real server runs in another process, so every TCP socket of this process on the proxy's side of a
// connection is the proxy's own.
const ECHO = `const s=require('net').createServer((c)=>c.pipe(c)).listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
const skip =
  process.platform !== 'linux' ? 'reads TCP_NODELAY through /proc and getsockopt (Linux only)' : false;

let rsProc: ChildProcess;
let rsPort = 0;

before(async () => {
  if (skip) return;
  rsProc = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
  rsPort = await new Promise<number>((resolve, reject) => {
    rsProc.once('error', reject);
    rsProc.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
});
after(() => {
  rsProc?.kill();
});

/** Inodes of this machine's established IPv4 TCP sockets matching `pick(localPort, remotePort)`. */
function establishedInodes(pick: (local: number, remote: number) => boolean): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01') continue;
    const local = Number.parseInt(f[1]!.split(':')[1]!, 16);
    const remote = Number.parseInt(f[2]!.split(':')[1]!, 16);
    if (pick(local, remote)) out.add(f[9]!);
  }
  return out;
}

/** TCP_NODELAY of this process's sockets with these inodes, by inode. */
function noDelayOf(inodes: Set<string>): Map<string, number> {
  const c = libc();
  const found = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (!inode || !inodes.has(inode)) continue;
    const value = new Uint8Array(4);
    const len = [4];
    const IPPROTO_TCP = 6;
    const TCP_NODELAY = 1;
    assert.equal(c.getsockopt(Number(fd), IPPROTO_TCP, TCP_NODELAY, value, len), 0, `getsockopt on fd ${fd}`);
    found.set(inode, new DataView(value.buffer).getInt32(0, true));
  }
  return found;
}

/** Opens one connection through a proxy service with `setting` and reads TCP_NODELAY on its two sockets. */
async function proxySockets(setting: string): Promise<number[]> {
  const port = await freePort();
  const { daemon } = await startDaemon(`
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    health: { kind: none }
${setting}
    realServers:
      - { address: "127.0.0.1:${rsPort}" }
`);
  const client = net.connect({ host: '127.0.0.1', port, noDelay: false });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.once('data', () => resolve());
      client.write('ping');
    });
    // The client-facing socket (local port = the service's) and the real-server socket (remote = RS).
    const inodes = establishedInodes((local, remote) => local === port || remote === rsPort);
    const values = noDelayOf(inodes);
    assert.equal(values.size, 2, `the proxy's two sockets of the connection (found ${values.size})`);
    return [...values.values()];
  } finally {
    client.destroy();
    await daemon.stop(500);
  }
}

test('tcpNoDelay (default on) sets TCP_NODELAY on the client and real-server sockets', { skip }, async () => {
  const values = await proxySockets('');
  assert.ok(
    values.every((v) => v !== 0),
    `both sockets have TCP_NODELAY: ${values}`,
  );
});

test('tcpNoDelay: false leaves Nagle on for both sockets of a connection', { skip }, async () => {
  const values = await proxySockets('    tcpNoDelay: false');
  assert.deepEqual(values, [0, 0]);
});
