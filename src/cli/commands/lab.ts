/**
 * `tslvs lab`: a network-namespace lab showing each LVS mode for real (client, director, three real
 * servers running the test server, a router, and for Full-NAT a fourth RS on another L2 segment).
 *   lab up [--mode dr|nat|tun|fnat] [--prefix P] [--ha] [--ipv6] [--xdp]   build it and start everything
 *   lab status [--json] [--prefix P]                        what is up, addresses, ports, master
 *   lab run [--mode M] [--prefix P]                         a few requests from the client, traced
 *   lab down [--prefix P]                                   remove exactly what `up` created
 */
import { parseArgs } from 'node:util';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { labDown, labStatus, labUp } from '../../tools/lab/control.js';
import { LAB_DEFAULT_PREFIX, LAB_MODES, type LabMode, validatePrefix } from '../../tools/lab/topology.js';
import { traceLab } from '../../tools/lab/trace.js';

const USAGE = `usage: tslvs lab up [--mode dr|nat|tun|fnat] [--prefix P] [--ha] [--ipv6] [--xdp | --no-xdp]
       tslvs lab status [--json] [--prefix P]
       tslvs lab run [--mode dr|nat|tun|fnat] [--prefix P]
       tslvs lab down [--prefix P]

Namespaces are named P-client, P-director (P-director2 with --ha), P-rs1..P-rs3 (P-rs4 in fnat mode) and
P-router; the default prefix is '${LAB_DEFAULT_PREFIX}'. --ipv6 makes the lab dual-stack: every host also
gets the IPv6 twin of each address (10.10.S.H -> fd10:S::H) and the director serves the same services on
the IPv6 VIP fd10::100 (every mode; with --ha a second VRRP instance holds it: dr, tun, fnat). The
directors run with the default dataplane.xdp (auto: established sessions are forwarded in the kernel's
generic XDP hook, the rest by the pipeline, and everything by the pipeline where XDP is refused); --xdp
asks for generic (the start fails without it), --no-xdp turns it off (the pipeline sees every packet).
Needs root.`;

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  let values: {
    mode?: string;
    prefix?: string;
    ha?: boolean;
    ipv6?: boolean;
    xdp?: boolean;
    'no-xdp'?: boolean;
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        mode: { type: 'string' },
        prefix: { type: 'string' },
        ha: { type: 'boolean' },
        ipv6: { type: 'boolean' },
        xdp: { type: 'boolean' },
        'no-xdp': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new TslvsError(ErrorCodes.USAGE, `${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help || verb === 'help' || verb === '--help' || verb === '-h') {
    console.log(USAGE);
    return 0;
  }
  const prefix = values.prefix ?? LAB_DEFAULT_PREFIX;
  const bad = validatePrefix(prefix);
  if (bad) throw new TslvsError(ErrorCodes.USAGE, bad);
  const mode = (values.mode ?? 'dr') as LabMode;
  if (!LAB_MODES.includes(mode))
    throw new TslvsError(
      ErrorCodes.USAGE,
      `--mode must be one of ${LAB_MODES.join(', ')} (got '${values.mode}')`,
    );
  if (values.xdp && values['no-xdp'])
    throw new TslvsError(ErrorCodes.USAGE, '--xdp and --no-xdp contradict each other');
  if (process.getuid?.() !== 0)
    throw new TslvsError(ErrorCodes.ENVIRONMENT, 'the lab creates network namespaces: run it as root');
  switch (verb) {
    case 'up': {
      const s = await labUp({
        prefix,
        mode,
        ha: values.ha ?? false,
        ipv6: values.ipv6 ?? false,
        xdp: values.xdp ? 'generic' : values['no-xdp'] ? 'off' : 'auto',
      });
      const six = s.topology.vip6
        ? `\n  IPv6:     ip netns exec ${prefix}-client curl 'http://[${s.topology.vip6}]/'`
        : '';
      console.log(`lab ${prefix} is up (mode ${mode}${s.topology.ha ? ', two directors' : ''}${six ? ', dual-stack' : ''}).
  client:   ip netns exec ${prefix}-client curl http://${s.topology.vip}/${six}
  UDP:      ip netns exec ${prefix}-client tslvs testserver ... (or any UDP client) to ${s.topology.vip}:${s.topology.ports.udp}
  director: ip netns exec ${prefix}-director tslvs adm -L -n --server 127.0.0.1:${s.topology.adminPort}   (TSLVS_TOKEN=${s.token})
  state:    tslvs lab status --prefix ${prefix}; tear down with tslvs lab down --prefix ${prefix}`);
      return 0;
    }
    case 'status': {
      const st = await labStatus(prefix);
      if (values.json) console.log(JSON.stringify(st, null, 2));
      else if (!st.up) console.log(`lab ${prefix} is not up`);
      else {
        console.log(
          `lab ${prefix}: mode ${st.mode}, VIP ${st.vip}${st.vip6 ? ` and ${st.vip6}` : ''} (tcp ${st.ports?.tcp}, udp ${st.ports?.udp})${st.master ? `, master ${st.master}` : ''}`,
        );
        for (const [role, ns] of Object.entries(st.namespaces))
          console.log(`  ${role.padEnd(10)} ${ns.padEnd(18)} ${(st.addresses[role] ?? []).join(' ')}`);
      }
      return 0;
    }
    case 'run': {
      const lines = await traceLab({ prefix, mode });
      for (const l of lines) console.log(l);
      return 0;
    }
    case 'down': {
      const left = await labDown(prefix);
      if (left.namespaces.length + left.links.length + left.processes.length > 0) {
        console.error(`lab ${prefix}: could not remove ${JSON.stringify(left)}`);
        return 1;
      }
      console.log(`lab ${prefix} removed`);
      return 0;
    }
    default:
      throw new TslvsError(ErrorCodes.USAGE, `unknown lab command '${verb ?? ''}'\n\n${USAGE}`);
  }
}
