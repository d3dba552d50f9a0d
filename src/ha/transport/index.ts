/**
 * The real transport factory: raw IPv4 or IPv6 sockets by the instance's family.
 */
import { RawIpv4Transport } from './raw-ipv4.js';
import { RawIpv6Transport } from './raw-ipv6.js';
import type { TransportFactory } from './types.js';

export const rawTransport: TransportFactory = (opts) =>
  opts.family === 4 ? new RawIpv4Transport(opts) : new RawIpv6Transport(opts);
