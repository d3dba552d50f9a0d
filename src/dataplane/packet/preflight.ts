/**
 * Checks before the packet data plane starts, each failing with a message that says what to change: the
 * interface exists and is up, we may open raw sockets, the kernel does not own the addresses tslvs
 * answers for in user space (VIPs, Full-NAT local addresses — the kernel would answer ARP and reset TCP
 * for them too), and the kernel does not forward on the interface (it would route VIP traffic itself).
 */
import { formatIp, type IpAddress } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { readSysctl, run } from '../../tools/exec.js';
import { findInterface, type InterfaceInfo } from './ifinfo.js';

export interface PreflightInput {
  interface: string;
  /** Addresses answered in user space: VIPs and FNAT local addresses. */
  userspaceAddresses: IpAddress[];
}

function fail(msg: string, details: Record<string, unknown> = {}): never {
  throw new TslvsError(ErrorCodes.ENVIRONMENT, msg, details);
}

/** Addresses the kernel holds on any interface of this namespace. */
export async function kernelAddresses(): Promise<Map<string, string>> {
  const r = await run(['ip', '-j', 'addr', 'show']);
  const links = JSON.parse(r.stdout || '[]') as Array<{
    ifname: string;
    addr_info?: Array<{ local: string }>;
  }>;
  const out = new Map<string, string>();
  for (const l of links) for (const a of l.addr_info ?? []) out.set(a.local, l.ifname);
  return out;
}

export async function preflight(input: PreflightInput): Promise<InterfaceInfo> {
  if (process.platform !== 'linux')
    fail('the packet data plane needs Linux (AF_PACKET); use dataplane kind: proxy');
  if (process.getuid?.() !== 0) {
    fail(
      'the packet data plane needs root (or CAP_NET_RAW and CAP_NET_ADMIN) to open AF_PACKET sockets; use dataplane kind: proxy without root',
    );
  }
  const info = findInterface(input.interface);
  if (!info)
    fail(`interface '${input.interface}' does not exist in this network namespace`, {
      interface: input.interface,
    });
  if (!info.up)
    fail(`interface '${input.interface}' is down: ip link set ${input.interface} up`, {
      interface: input.interface,
    });
  const owned = await kernelAddresses();
  const clash = input.userspaceAddresses.filter((a) => owned.has(formatIp(a)));
  if (clash.length > 0) {
    const list = clash.map((a) => `${formatIp(a)} (on ${owned.get(formatIp(a))})`).join(', ');
    fail(
      `the kernel owns ${list}: in packet mode tslvs answers for VIPs and local addresses itself. Remove them from the kernel (ip addr del ADDR/PLEN dev IF), or let VRRP/tslvs manage them`,
      { addresses: clash.map(formatIp) },
    );
  }
  const fwd = await readSysctl(`net/ipv4/conf/${input.interface}/forwarding`).catch(() => '0');
  if (fwd === '1') {
    fail(
      `net.ipv4.conf.${input.interface}.forwarding is 1: the kernel would route VIP traffic itself. Set it to 0 on the director`,
      { sysctl: `net.ipv4.conf.${input.interface}.forwarding` },
    );
  }
  return info;
}
