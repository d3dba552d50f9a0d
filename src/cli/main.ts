#!/usr/bin/env node
/**
 * The `tslvs` command tree. Each sub-command lives in its own module under ./commands and is loaded on
 * demand, so `tslvs adm` does not pay for the packet data plane.
 */
import { isTslvsError } from '../errors.js';

interface Command {
  summary: string;
  load: () => Promise<{ main(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  run: { summary: 'run the daemon in the foreground (-c FILE)', load: () => import('./commands/run.js') },
  check: {
    summary: 'validate a config file without running it (-c FILE)',
    load: () => import('./commands/check.js'),
  },
  demo: {
    summary: 'the embedded default: demo backends + TCP and UDP services',
    load: () => import('./commands/demo.js'),
  },
  reload: {
    summary: 'make a running daemon re-read its config file',
    load: () => import('./commands/reload.js'),
  },
  adm: {
    summary: 'ipvsadm-compatible command line, over the admin API',
    load: () => import('./commands/adm.js'),
  },
  'import-keepalived': {
    summary: 'translate a keepalived.conf into tslvs YAML',
    load: () => import('./commands/import-keepalived.js'),
  },
  realserver: {
    summary: 'prepare (or --down) this host as a DR/TUN real server',
    load: () => import('./commands/realserver.js'),
  },
  lab: { summary: 'network-namespace lab: up, status, run, down', load: () => import('./commands/lab.js') },
  simulate: {
    summary: 'where would this flow go (asks the running daemon)',
    load: () => import('./commands/simulate.js'),
  },
  testserver: {
    summary: 'small HTTP + UDP echo real server (lab, demos)',
    load: () => import('./commands/testserver.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length), 4);
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `usage: tslvs <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'tslvs <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    console.log('tslvs 0.1.0');
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`tslvs: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isTslvsError(err)) {
      console.error(`tslvs: ${err.message}`);
      process.exitCode = err.code === 'TSLVS_ERR_USAGE' ? 2 : 1;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
