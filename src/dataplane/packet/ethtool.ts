/**
 * The ethtool facts the data plane cares about, receive aggregation (GRO, LRO) and the driver's name,
 * through the legacy SIOCETHTOOL ioctl (ETHTOOL_GGRO / ETHTOOL_SGRO / ETHTOOL_GFLAGS / ETHTOOL_GDRVINFO;
 * include/uapi/linux/ethtool.h), so no ethtool binary is needed. It answers for the calling thread's
 * network namespace, as the SIOCGIF* ioctls do.
 */
import { AF_INET, SOCK_CLOEXEC, SOCK_DGRAM } from './constants.js';
import { ifreq, validateIfname } from './ifinfo.js';
import { libc, syscallError } from './libc.js';
import { PinnedBuffer } from './pinned.js';

const SIOCETHTOOL = 0x8946;
const ETHTOOL_GGRO = 0x2b;
const ETHTOOL_SGRO = 0x2c;
const ETHTOOL_GFLAGS = 0x25;
const ETHTOOL_GDRVINFO = 0x03;
const ETH_FLAG_LRO = 1 << 15;
/** struct ethtool_drvinfo: cmd, then char driver[32]. */
const DRVINFO_DRIVER = 4;
const DRVINFO_NAME_LEN = 32;
/** Where the command's struct sits in the pinned buffer (after the 40-byte struct ifreq). */
const AT = 64;

/**
 * One SIOCETHTOOL command: `fill` writes its struct (cmd first) at `AT`, `read` reads the answer there.
 */
function ethtool<T>(ifname: string, call: string, fill: (b: Buffer) => void, read: (b: Buffer) => T): T {
  validateIfname(ifname);
  const c = libc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw syscallError('socket(AF_INET, SOCK_DGRAM)', c.errno(), { ifname });
  // Pinned: ifr_data is an address the kernel follows.
  const mem = new PinnedBuffer(4096);
  try {
    const b = mem.buf;
    ifreq(ifname).copy(b, 0);
    b.writeBigUInt64LE(BigInt(mem.address + AT), 16);
    fill(b);
    if (c.ioctl(fd, SIOCETHTOOL, b) < 0)
      throw syscallError(`ioctl(SIOCETHTOOL, ${call})`, c.errno(), { ifname });
    return read(b);
  } finally {
    mem.free();
    c.close(fd);
  }
}

/** struct ethtool_value { cmd, data } through ifr_data; returns `data` afterwards. */
function ethtoolValue(ifname: string, cmd: number, data: number, call: string): number {
  return ethtool(
    ifname,
    call,
    (b) => {
      b.writeUInt32LE(cmd, AT);
      b.writeUInt32LE(data, AT + 4);
    },
    (b) => b.readUInt32LE(AT + 4),
  );
}

/** The name of the driver behind `ifname` ("veth", "mlx5_core", "virtio_net"...). */
export function driverName(ifname: string): string {
  return ethtool(
    ifname,
    'ETHTOOL_GDRVINFO',
    (b) => b.writeUInt32LE(ETHTOOL_GDRVINFO, AT),
    (b) => {
      const name = b.subarray(AT + DRVINFO_DRIVER, AT + DRVINFO_DRIVER + DRVINFO_NAME_LEN);
      const end = name.indexOf(0);
      return name.toString('latin1', 0, end < 0 ? name.length : end);
    },
  );
}

/** Whether GRO is on for `ifname`. */
export function groEnabled(ifname: string): boolean {
  return ethtoolValue(ifname, ETHTOOL_GGRO, 0, 'ETHTOOL_GGRO') !== 0;
}

/**
 * Whether the device may hand the stack aggregated TCP segments: GRO or LRO on. (A device that does not
 * answer ETHTOOL_GFLAGS has no LRO to report.)
 */
export function aggregatesTcp(ifname: string): boolean {
  if (groEnabled(ifname)) return true;
  try {
    return (ethtoolValue(ifname, ETHTOOL_GFLAGS, 0, 'ETHTOOL_GFLAGS') & ETH_FLAG_LRO) !== 0;
  } catch {
    return false;
  }
}

/** Turns GRO on or off for `ifname` (on veth, on also gives the device NAPI). */
export function setGro(ifname: string, on: boolean): void {
  ethtoolValue(ifname, ETHTOOL_SGRO, on ? 1 : 0, 'ETHTOOL_SGRO');
}
