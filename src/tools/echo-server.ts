/**
 * A small real server for demos, the namespace lab and tests: HTTP on TCP and an echo on UDP, both
 * answering with the server's name and the client address they saw. A PROXY protocol v1/v2 header at the
 * start of a TCP connection or a UDP datagram is understood, so the address shown is the real client's
 * when a director sends one (`via` then names the peer that carried it).
 *
 *   GET /          -> "<name> <client ip:port>\n"   (?format=json for JSON)
 *   GET /healthz   -> "ok"
 *   GET /bytes/N   -> N bytes (large transfers)     POST / -> "<name> received <n> bytes sha256 <hex>"
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { formatEndpoint } from '../engine/addr.js';
import { decodeProxyHeader, PROXY_INCOMPLETE, ProxyHeader } from '../wire/proxy-protocol.js';

export interface EchoServerOptions {
  name: string;
  host: string;
  /** 0 = ephemeral. */
  tcpPort?: number;
  udpPort?: number;
  /** Answer /healthz with 503 while false (tests flip it). */
  healthy?: () => boolean;
}

export interface EchoServer {
  tcpPort: number;
  udpPort: number;
  /** Every connection's (or datagram's) seen client address, most recent last. */
  readonly seen: string[];
  close(): Promise<void>;
}

const PROXY_SIG_FIRST = new Set([0x0d, 0x50]);

function clientOf(
  h: ProxyHeader | null,
  sock: { remoteAddress?: string | undefined; remotePort?: number | undefined },
): string {
  const src = h?.srcAddress();
  if (h && src) return formatEndpoint({ addr: src, port: h.srcPort });
  return peerOf(sock);
}

/** `ip:port` of a socket's peer; an IPv4 client of a dual-stack (`::`) socket shows as plain IPv4. */
function peerOf(sock: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  let ip = sock.remoteAddress ?? '?';
  if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
  return `${ip.includes(':') ? `[${ip}]` : ip}:${sock.remotePort ?? 0}`;
}

export async function startEchoServer(opts: EchoServerOptions): Promise<EchoServer> {
  const seen: string[] = [];
  const proxyOf = new WeakMap<net.Socket, ProxyHeader>();
  const httpServer = http.createServer((req, res) => {
    const sock = req.socket;
    const client = clientOf(proxyOf.get(sock) ?? null, sock);
    const via = peerOf(sock);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') {
      const ok = opts.healthy?.() ?? true;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'unhealthy\n');
      return;
    }
    seen.push(client);
    const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
    if (bytes) {
      const n = Math.min(Number(bytes[1]), 1 << 30);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': n,
        'x-server': opts.name,
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = n;
      const pump = () => {
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        hash.update(c);
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-server': opts.name });
        res.end(`${opts.name} received ${n} bytes sha256 ${hash.digest('hex')}\n`);
      });
      return;
    }
    if (url.searchParams.get('format') === 'json') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-server': opts.name });
      res.end(`${JSON.stringify({ server: opts.name, client, via })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-server': opts.name });
    res.end(`${opts.name} ${client}\n`);
  });
  httpServer.keepAliveTimeout = 60_000;
  // Raw TCP first: strip an optional PROXY header, then hand the socket to the HTTP parser.
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!PROXY_SIG_FIRST.has(buf[0]!)) return handOver(0);
      const h = new ProxyHeader();
      const n = decodeProxyHeader(buf, 0, buf.length, h);
      if (n === PROXY_INCOMPLETE && buf.length < 536) return;
      if (n > 0) proxyOf.set(sock, h);
      handOver(Math.max(n, 0));
    };
    const handOver = (skip: number) => {
      sock.off('data', onData);
      sock.pause();
      const rest = buf.subarray(skip);
      if (rest.length > 0) sock.unshift(rest);
      httpServer.emit('connection', sock);
      sock.resume();
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
  });
  const udp = dgram.createSocket(opts.host.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    let payload: Buffer = msg;
    let h: ProxyHeader | null = null;
    if (msg[0] === 0x0d) {
      const ph = new ProxyHeader();
      const n = decodeProxyHeader(msg, 0, msg.length, ph);
      if (n > 0) {
        h = ph;
        payload = msg.subarray(n);
      }
    }
    const client = clientOf(h, { remoteAddress: rinfo.address, remotePort: rinfo.port });
    seen.push(client);
    udp.send(Buffer.concat([Buffer.from(`${opts.name} ${client} `), payload]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host: opts.host, port: opts.tcpPort ?? 0 }, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address: opts.host, port: opts.udpPort ?? 0 }, () => resolve());
  });
  return {
    tcpPort: (tcp.address() as net.AddressInfo).port,
    udpPort: udp.address().port,
    seen,
    close: async () => {
      udp.close();
      httpServer.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}
