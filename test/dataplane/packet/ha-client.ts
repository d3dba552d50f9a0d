/**
 * A client program for the HA failover test, run inside the lab's client namespace. It holds long-lived
 * keep-alive HTTP connections through the VIP and is driven by JSON lines on stdin, answering with JSON
 * lines on stdout:
 *   {"cmd":"open","n":20,"host":VIP,"port":80}  open n connections, one request each -> {"servers":[...]}
 *   {"cmd":"again","timeoutMs":T}               one more request on every connection -> {"servers","errors"}
 *   {"cmd":"probe","timeoutMs":T}               fresh connections until one is answered -> {"at","tries"}
 *   {"cmd":"events"}                            errors/closes seen on the held connections -> {"events"}
 * Every wait is bounded; the program exits when stdin closes.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';

interface Held {
  sock: net.Socket;
  buf: Buffer;
  waiter: ((r: { server?: string; error?: string }) => void) | null;
}

const held: Held[] = [];
const events: string[] = [];
let host = '';
let port = 80;

const REQUEST = (close: boolean) =>
  `GET /?format=json HTTP/1.1\r\nHost: vip\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

/** A complete response in `buf` -> [server (x-server header), rest], or null while incomplete. */
function takeResponse(buf: Buffer): [string, Buffer] | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1');
  const server = /x-server:\s*(\S+)/i.exec(head)?.[1] ?? '?';
  const len = /content-length:\s*(\d+)/i.exec(head);
  if (len) {
    const stop = end + 4 + Number(len[1]);
    return buf.length < stop ? null : [server, buf.subarray(stop)];
  }
  // Chunked: the test server's bodies are small; the response ends with the last-chunk line.
  const last = buf.indexOf('\r\n0\r\n\r\n', end + 2);
  return last < 0 ? null : [server, buf.subarray(last + 7)];
}

/** `i` < 0: a probe connection, whose end is no event. */
function attach(h: Held, i: number): void {
  const note = (e: string) => {
    if (i >= 0) events.push(`${i}: ${e}`);
  };
  h.sock.on('data', (d) => {
    h.buf = Buffer.concat([h.buf, d]);
    const r = takeResponse(h.buf);
    if (!r) return;
    h.buf = r[1];
    h.waiter?.({ server: r[0] });
    h.waiter = null;
  });
  h.sock.on('error', (e) => {
    note(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`);
    h.waiter?.({ error: (e as NodeJS.ErrnoException).code ?? e.message });
    h.waiter = null;
  });
  h.sock.on('close', () => {
    note('closed');
    h.waiter?.({ error: 'closed' });
    h.waiter = null;
  });
}

function ask(h: Held, timeoutMs: number): Promise<{ server?: string; error?: string }> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      h.waiter = null;
      resolve({ error: 'timeout' });
    }, timeoutMs);
    h.waiter = (r) => {
      clearTimeout(t);
      resolve(r);
    };
    h.sock.write(REQUEST(false));
  });
}

function connect(timeoutMs: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const t = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(t);
      resolve(sock);
    });
    sock.once('error', () => {
      clearTimeout(t);
      resolve(null);
    });
  });
}

async function open(n: number): Promise<unknown> {
  const servers: string[] = [];
  for (let i = 0; i < n; i++) {
    const sock = await connect(3000);
    if (!sock) return { error: `connection ${i} failed` };
    sock.setNoDelay(true);
    const h: Held = { sock, buf: Buffer.alloc(0), waiter: null };
    attach(h, held.length);
    held.push(h);
    const r = await ask(h, 3000);
    servers.push(r.server ?? `error:${r.error}`);
  }
  return { servers };
}

async function probe(timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let tries = 0;
  while (Date.now() < deadline) {
    tries++;
    const sock = await connect(300);
    if (sock) {
      const h: Held = { sock, buf: Buffer.alloc(0), waiter: null };
      attach(h, -1);
      const r = await ask(h, 500);
      sock.destroy();
      if (r.server) return { at: Date.now(), tries, server: r.server };
    } else {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { at: null, tries };
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line) as { cmd: string; n?: number; host?: string; port?: number; timeoutMs?: number };
  const reply = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
  if (m.cmd === 'open') {
    host = m.host!;
    port = m.port!;
    void open(m.n!).then(reply);
  } else if (m.cmd === 'again') {
    void Promise.all(held.map((h) => ask(h, m.timeoutMs ?? 5000))).then((rs) =>
      reply({ servers: rs.map((r) => r.server ?? null), errors: rs.map((r) => r.error ?? null) }),
    );
  } else if (m.cmd === 'probe') {
    void probe(m.timeoutMs ?? 10_000).then(reply);
  } else if (m.cmd === 'events') {
    reply({ events });
  }
});
rl.on('close', () => {
  for (const h of held) h.sock.destroy();
  process.exit(0);
});
