/**
 * The PROXY protocol header a proxied connection or datagram starts with, telling the real server the
 * client's address: the socket-level twin of Full-NAT's TOA option (HAProxy doc/proxy-protocol.txt).
 */
import type { IpAddress } from '../../engine/addr.js';
import { encodeProxyV1, encodeProxyV2, ProxyHeader, ProxyTransport } from '../../wire/proxy-protocol.js';

const scratch = new Uint8Array(256);
const header = new ProxyHeader();

/** v1 is TCP only; v2 carries TCP (STREAM) or UDP (DGRAM). Returns a new Buffer per connection. */
export function buildProxyHeader(
  version: 'v1' | 'v2',
  udp: boolean,
  client: IpAddress,
  clientPort: number,
  vip: IpAddress,
  vipPort: number,
): Buffer {
  header.setAddresses(client, clientPort, vip, vipPort);
  header.transport = udp ? ProxyTransport.DGRAM : ProxyTransport.STREAM;
  const n =
    version === 'v1'
      ? encodeProxyV1(header, scratch, 0, scratch.length)
      : encodeProxyV2(header, scratch, 0, scratch.length);
  if (n < 0) throw new RangeError(`cannot encode a PROXY ${version} header for this connection`);
  return Buffer.from(scratch.subarray(0, n));
}
