/** Sends hand-built IPv4 packets (header included) from inside a namespace, through IPPROTO_RAW. */
import { AF_INET, SOCK_CLOEXEC, SOCK_RAW } from '../../../src/dataplane/packet/constants.js';
import { check, libc } from '../../../src/dataplane/packet/libc.js';
import { withNetns } from '../../../src/dataplane/packet/netns.js';
import { ipv4Bytes } from '../../helpers/frames.js';

const IPPROTO_RAW = 255;

/** Sends each packet to the address in its own destination field; the kernel fills checksum and length. */
export function sendRawIpv4(ns: string, packets: Buffer[]): void {
  const c = libc();
  const fd = withNetns(ns, () =>
    check(c.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), 'socket(IPPROTO_RAW)'),
  );
  try {
    for (const p of packets) {
      const sin = Buffer.alloc(16);
      sin.writeUInt16LE(AF_INET, 0);
      p.copy(sin, 4, 16, 20);
      check(c.sendto(fd, p, p.length, 0, sin, sin.length), 'sendto(IPPROTO_RAW)');
    }
  } finally {
    c.close(fd);
  }
}

export { ipv4Bytes };
