/**
 * The network boundary of session sync: one UDP socket bound to `ha.sync.listen`, sending to peers and
 * receiving from them. `UdpSyncSocket` is node:dgram (it works in the packet worker thread, whose event
 * loop runs between packet slices); `FakeSyncNet` (fake.ts) connects sockets in memory for tests.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type Endpoint, formatEndpoint, formatIp } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';

export interface SyncPeerAddress {
  /** Textual IP address as the socket layer reports it. */
  address: string;
  port: number;
}

export interface SyncSocket {
  /** Sends one datagram (the socket may keep `b`: pass a fresh buffer). Never throws; failures are counted. */
  send(b: Uint8Array, to: SyncPeerAddress): void;
  onMessage(handler: (b: Uint8Array, from: SyncPeerAddress) => void): void;
  /** Send failures so far and the last one's text. */
  readonly sendErrors: number;
  readonly lastError: string | null;
  /** Resolves once the address is free again (a restart may bind it at once). */
  close(): Promise<void>;
}

/**
 * Asked-for receive buffer. The packet worker drains the socket between packet slices (every 20-50 ms),
 * so a snapshot stream must fit meanwhile; the kernel caps it at net.core.rmem_max.
 */
const RECV_BUFFER = 4 << 20;

export class UdpSyncSocket implements SyncSocket {
  readonly #socket: Socket;
  sendErrors = 0;
  lastError: string | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('error', (err) => {
      this.sendErrors++;
      this.lastError = err.message;
    });
  }

  /** Binds to `listen`; rejects with TSLVS_ERR_ENVIRONMENT naming the address when it cannot. */
  static open(listen: Endpoint): Promise<UdpSyncSocket> {
    const socket = createSocket({
      type: listen.addr.family === 6 ? 'udp6' : 'udp4',
      reuseAddr: false,
      recvBufferSize: RECV_BUFFER,
    });
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        socket.close();
        reject(
          new TslvsError(
            ErrorCodes.ENVIRONMENT,
            `session sync cannot listen on ${formatEndpoint(listen)}: ${err.message}`,
            { listen: formatEndpoint(listen) },
          ),
        );
      };
      socket.once('error', fail);
      socket.bind({ address: formatIp(listen.addr), port: listen.port, exclusive: true }, () => {
        socket.off('error', fail);
        resolve(new UdpSyncSocket(socket));
      });
    });
  }

  /** The bound port (what `listen` port 0 became). */
  get port(): number {
    return this.#socket.address().port;
  }

  send(b: Uint8Array, to: SyncPeerAddress): void {
    this.#socket.send(b, to.port, to.address, (err) => {
      if (err) {
        this.sendErrors++;
        this.lastError = err.message;
      }
    });
  }

  onMessage(handler: (b: Uint8Array, from: SyncPeerAddress) => void): void {
    this.#socket.on('message', (msg, rinfo) => handler(msg, { address: rinfo.address, port: rinfo.port }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
