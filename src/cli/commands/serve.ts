import { Command } from 'commander';
import type { ConfigFlags } from '../../config/load-config.ts';
import { runCommand } from '../run-command.ts';

/** `herald serve`: run the API and/or the dispatcher until SIGTERM or SIGINT (serve-run.ts). */
export function serveCommand(): Command {
  return (
    new Command('serve')
      .summary('run Herald: HTTP API and dispatcher (see --role)')
      // The flags are a few of its settings: say where the others are (`herald serve --help`).
      .description(
        'run Herald: HTTP API and dispatcher (see --role). The flags below are a few of its ' +
          'settings; every setting, these included, is a HERALD_* environment variable: ' +
          'docs/configuration.md lists them all',
      )
      .option('-p, --port <port>', 'TCP port, 0 for any free port (env HERALD_PORT, default 8080)')
      .option('--host <host>', 'address to listen on (env HERALD_HOST, default 127.0.0.1)')
      .option('--database <url>', 'sqlite:PATH or postgres://… (env HERALD_DATABASE_URL)')
      .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./herald-data)')
      .option('--role <role>', 'api | worker | all (env HERALD_ROLE, default all)')
      .option('--allow-networks <cidrs>', 'private CIDRs deliveries may reach (env HERALD_ALLOW_NETWORKS)')
      .option('--log-level <level>', 'fatal … trace, or silent (env HERALD_LOG_LEVEL, default info)')
      .option('--public-url <url>', 'base URL of links, a host root (env HERALD_PUBLIC_URL)')
      // The server's modules load only when serve runs: the CLI builds serve's command alone at start
      // (command-groups.ts).
      .action((flags: ConfigFlags) => runCommand(async () => (await import('./serve-run.ts')).serve(flags)))
  );
}
