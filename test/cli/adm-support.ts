/** Runs `tslvs adm` in this process against a test daemon, capturing what it prints. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAdm } from '../../src/cli/adm/run.js';
import { TOKEN } from '../control/api/support.js';
import { fixturesDir } from '../helpers/paths.js';

export interface AdmResult {
  code: number;
  out: string;
  err: string;
}

export async function adm(
  url: string,
  argv: string[],
  opts: { stdin?: string; token?: string | null } = {},
): Promise<AdmResult> {
  let out = '';
  let err = '';
  const token = opts.token === undefined ? TOKEN : opts.token;
  const code = await runAdm(['--server', url, ...argv], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    readStdin: async () => opts.stdin ?? '',
    env: token === null ? {} : { TSLVS_TOKEN: token },
  });
  return { code, out, err };
}

/** The state test/fixtures/adm/make-golden.py describes (see its notes for the expected order). */
export const GOLDEN_CONFIG = `
conntable: { size: 4096 }
services:
  - name: web
    address: 127.0.0.1:{P0}
    scheduler: wlc
    health: { kind: none }
    realServers:
      - { address: 10.0.0.2:80, weight: 3, forwarding: nat, maxConnections: 500, lowerThreshold: 100 }
      - { address: 192.168.1.1:80, weight: 1, forwarding: nat }
      - { address: 10.0.0.1:80, weight: 0, forwarding: nat }
  - name: stick
    address: 127.0.0.2:{P1}
    scheduler: { name: sh, flags: [sh-fallback, sh-port] }
    persistence: { timeout: 600, netmask: 255.255.255.0 }
    health: { kind: none }
    realServers:
      - { address: 10.0.1.2:8080, weight: 2, forwarding: tun }
      - { address: 10.0.1.1:8080, weight: 2 }
  - name: dns
    protocol: udp
    address: 127.0.0.1:{P2}
    scheduler: rr
    onePacket: true
    health: { kind: none }
    realServers:
      - { address: 10.0.2.1:53, forwarding: fnat }
`;

export function golden(name: string, ports: readonly number[]): string {
  const text = readFileSync(join(fixturesDir, 'adm', name), 'utf8');
  return text.replace(/PORT(\d)/g, (_m, i: string) => String(ports[Number(i)]));
}
