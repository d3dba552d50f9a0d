/**
 * `tslvs realserver`: prepares this host as a DR or TUN real server (VIP on lo, ARP sysctls, tunnel
 * device), or undoes it with --down. With --tunnel on a kernel without the ipip module it stays in the
 * foreground, decapsulating IP-in-IP in user space into a TUN device, until SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { type IpAddress, parseIp } from '../../engine/addr.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { run, writeSysctl } from '../../tools/exec.js';
import { defaultStateFile, realServerDown, realServerUp } from '../../tools/realserver.js';

const USAGE = `usage: tslvs realserver --vip ADDR [--vip ADDR...] [--tunnel [--tun-name NAME] [--director ADDR...]]
       tslvs realserver --down [--vip ADDR...]

Prepares this host as an LVS-DR or LVS-TUN real server:
  --vip ADDR        virtual IP to hold on lo (repeatable)
  --tunnel          also accept IP-in-IP from the director (kernel tunl0, or user-space decapsulation
                    into a TUN device when the kernel has no ipip module: then it runs until stopped;
                    user-space decapsulation also takes IPv6-in-IPv6 sent to this host's IPv6 addresses)
  --tun-name NAME   TUN device for user-space decapsulation (default tslvs-ipip0)
  --director ADDR   accept tunnelled packets only from these outer sources (repeatable)
  --local ADDR      this host's addresses that tunnelled packets are sent to (default: all of its IPv4
                    and global IPv6 addresses)
  --down            undo: remove the VIPs, restore the sysctls saved by the last run
  --state FILE      where the saved state lives (default /run/tslvs/realserver.json)`;

/** This host's IPv4 addresses and global IPv6 addresses, but for lo's (where the VIPs are). */
async function localAddresses(): Promise<string[]> {
  const r = await run(['ip', '-j', 'addr', 'show']);
  type Addr = { local: string; family: string; scope?: string; tentative?: boolean; dadfailed?: boolean };
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info: Addr[] }>;
  // An IPv6 address still in (or failed) duplicate address detection cannot be bound: left out.
  const usable = (a: Addr) => a.family === 'inet' || (a.scope === 'global' && !a.tentative && !a.dadfailed);
  return links
    .filter((l) => l.ifname !== 'lo')
    .flatMap((l) => l.addr_info.filter(usable).map((a) => a.local));
}

export async function main(argv: string[]): Promise<number> {
  let values: {
    vip?: string[];
    tunnel?: boolean;
    'tun-name'?: string;
    director?: string[];
    local?: string[];
    down?: boolean;
    state?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        vip: { type: 'string', multiple: true },
        tunnel: { type: 'boolean' },
        'tun-name': { type: 'string' },
        director: { type: 'string', multiple: true },
        local: { type: 'string', multiple: true },
        down: { type: 'boolean' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new TslvsError(ErrorCodes.USAGE, `${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parse = (s: string, flag: string): IpAddress => {
    try {
      return parseIp(s);
    } catch {
      throw new TslvsError(ErrorCodes.USAGE, `${flag}: '${s}' is not an IP address`);
    }
  };
  const vips = (values.vip ?? []).map((v) => parse(v, '--vip'));
  const stateFile = values.state ?? defaultStateFile();
  if (values.down) {
    await realServerDown({ vips, stateFile });
    console.log('real server configuration removed');
    return 0;
  }
  if (vips.length === 0) throw new TslvsError(ErrorCodes.USAGE, `at least one --vip is required\n\n${USAGE}`);
  const tunName = values['tun-name'] ?? 'tslvs-ipip0';
  const { kernelTunnel } = await realServerUp({ vips, tunnel: values.tunnel ?? false, tunName, stateFile });
  // With the kernel's ipip (tunl0) IPv4 is the kernel's; IPv6-in-IPv6 is still decapsulated here.
  let locals = values.local ?? (await localAddresses());
  if (kernelTunnel) locals = locals.filter((a) => a.includes(':'));
  if (!values.tunnel || locals.length === 0 || (kernelTunnel && !vips.some((v) => v.family === 6))) {
    console.log(`real server ready: ${vips.length} VIP(s) on lo${values.tunnel ? ', kernel tunl0 up' : ''}`);
    return 0;
  }
  for (const d of values.director ?? []) parse(d, '--director');
  const { startIpipDecap } = await import('../../dataplane/packet/ipip-decap.js');
  const decap = startIpipDecap({
    tunName,
    localAddresses: locals,
    ...(values.director ? { allowedSources: values.director } : {}),
  });
  await run(['ip', 'link', 'set', tunName, 'up']);
  await writeSysctl(`net/ipv4/conf/${tunName}/rp_filter`, 0);
  console.log(
    `real server ready: ${vips.length} VIP(s) on lo, user-space IP-in-IP (and IPv6-in-IPv6) decapsulation into ${tunName}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  const s = decap.stats();
  decap.close();
  console.log(`decapsulation stopped: ${s.delivered} delivered, ${s.received - s.delivered} dropped`);
  return 0;
}
