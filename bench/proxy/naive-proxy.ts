/**
 * The naive baseline of the proxy benchmark: what a Node user writes first. TCP: net.createServer,
 * net.connect and pipe() both ways. UDP: one socket per client address towards the backend, replies sent
 * back from the listening socket (no idle expiry: the benchmark has a handful of clients).
 *
 * usage: node naive-proxy.js [--tcp LISTEN_PORT:BACKEND_PORT]... [--udp LISTEN_PORT:BACKEND_PORT]...
 * Everything is on 127.0.0.1.
 */
import dgram from 'node:dgram';
import net from 'node:net';

const HOST = '127.0.0.1';

function tcp(port: number, backend: number): void {
  net
    .createServer((client) => {
      const upstream = net.connect(backend, HOST);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    })
    .listen(port, HOST);
}

function udp(port: number, backend: number): void {
  const front = dgram.createSocket('udp4');
  const upstreams = new Map<string, dgram.Socket>();
  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.on('message', (reply) => front.send(reply, from.port, from.address));
      upstreams.set(key, up);
    }
    up.send(msg, backend, HOST);
  });
  front.bind(port, HOST);
}

const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  const m = /^(\d+):(\d+)$/.exec(args[i + 1]!);
  if (!m || (args[i] !== '--tcp' && args[i] !== '--udp')) {
    console.error(
      `naive-proxy: expected --tcp|--udp LISTEN_PORT:BACKEND_PORT, got ${args[i]} ${args[i + 1]}`,
    );
    process.exit(2);
  }
  (args[i] === '--tcp' ? tcp : udp)(Number(m[1]), Number(m[2]));
}
