/**
 * A small traffic tool that tests run inside namespaces (`ip netns exec NS node dist/test/helpers/ns-tool.js
 * <command> ...`). It prints `ready` once listening and one line per event, so tests wait on lines rather
 * than on time. Every loop is bounded by its arguments.
 *
 *   udp-listen HOST PORT            prints `ready`, then `udp <srcaddr> <srcport> <payload as utf8>` per datagram
 *   udp-send HOST PORT COUNT SIZE [GAP_MS]
 *                                   sends COUNT datagrams `seq=<n>` padded with '.' to SIZE bytes, prints `sent <n>`
 *   tcp-listen HOST PORT            prints `ready`, drains connections, prints `tcp-bytes <n>` when each closes
 *   tcp-send HOST PORT BYTES        connects, writes BYTES in 64 KiB chunks, prints `sent <n>`
 *   tcp-connect HOST PORT           one connection attempt; prints `connected` or `error <code>`
 */
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Path of the compiled tool, for spawning. */
export const nsToolPath = fileURLToPath(import.meta.url);

async function main(argv: string[]): Promise<void> {
  const [cmd, host = '', portText = '0', ...rest] = argv;
  const port = Number(portText);
  switch (cmd) {
    case 'udp-listen': {
      const sock = createSocket('udp4');
      sock.on('message', (msg, rinfo) =>
        console.log(`udp ${rinfo.address} ${rinfo.port} ${msg.toString('utf8')}`),
      );
      sock.bind(port, host, () => console.log('ready'));
      return;
    }
    case 'udp-send': {
      const count = Number(rest[0] ?? 1);
      const size = Number(rest[1] ?? 16);
      const gap = Number(rest[2] ?? 0);
      const sock = createSocket('udp4');
      for (let i = 0; i < count; i++) {
        const text = `seq=${i}`;
        const payload = Buffer.alloc(Math.max(size, text.length), '.');
        payload.write(text);
        await new Promise<void>((resolve, reject) =>
          sock.send(payload, port, host, (err) => (err ? reject(err) : resolve())),
        );
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      }
      console.log(`sent ${count}`);
      sock.close();
      return;
    }
    case 'tcp-listen': {
      const server = createServer((c) => {
        let n = 0;
        c.on('data', (d) => (n += d.length));
        c.on('close', () => console.log(`tcp-bytes ${n}`));
        c.on('error', () => {});
      });
      server.listen(port, host, () => console.log('ready'));
      return;
    }
    case 'tcp-send': {
      const total = Number(rest[0] ?? 65536);
      const c = connect(port, host);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', resolve);
        c.once('error', reject);
      });
      const chunk = Buffer.alloc(65536, 0x61);
      let sent = 0;
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        if (!c.write(chunk.subarray(0, n))) await new Promise((r) => c.once('drain', r));
        sent += n;
      }
      await new Promise<void>((resolve) => c.end(resolve));
      console.log(`sent ${sent}`);
      return;
    }
    case 'tcp-connect': {
      const c = connect({ port, host });
      c.setTimeout(3000, () => c.destroy(new Error('timeout')));
      c.once('connect', () => {
        console.log('connected');
        c.destroy();
      });
      c.once('error', (err: NodeJS.ErrnoException) => console.log(`error ${err.code ?? err.message}`));
      return;
    }
    default:
      console.error(`unknown command ${cmd}`);
      process.exit(2);
  }
}

if (process.argv[1] === nsToolPath) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
