/**
 * The network boundary of a VRRP instance: send a VRRP message to a destination, receive VRRP messages.
 * The IP layer (TTL 255, protocol 112, multicast membership, binding to the interface) is the
 * transport's; building and checking messages is pure code in ../vrrp/. Implementations: raw sockets
 * (raw-ipv4.ts, raw-ipv6.ts) and an in-memory LAN for tests (fake.ts).
 */
import type { IpAddress } from '../../engine/addr.js';
import type { RxPacket } from '../vrrp/receive.js';

export interface VrrpTransport {
  readonly family: 4 | 6;
  /** The source of our adverts (our primary address on the link). */
  readonly source: IpAddress;
  /**
   * Sends one VRRP message (checksum already computed for `source` -> `dst`). Never throws: returns false
   * and remembers the error in `lastError` when the kernel refused it.
   */
  send(dst: IpAddress, message: Uint8Array): boolean;
  /** Called for every VRRP packet received (any VRID); `pkt.message` is only valid during the call. */
  onReceive(handler: (pkt: RxPacket) => void): void;
  /** Datagrams the transport itself rejected (not IPv4/6 protocol 112, truncated). */
  readonly malformed: number;
  readonly lastError: string | null;
  close(): void;
}

export interface TransportOptions {
  interface: string;
  family: 4 | 6;
  /** null = the interface's primary address (IPv6: its link-local address). */
  source: IpAddress | null;
  /** Empty = multicast (224.0.0.18 / ff02::12). */
  unicastPeers: readonly IpAddress[];
}

/** Opens a transport; throws TslvsError (ENVIRONMENT / SYSCALL) when the link cannot be used. */
export type TransportFactory = (opts: TransportOptions) => VrrpTransport;
