import { join } from 'node:path';
import { Command } from 'commander';
import { ADMIN_TOKEN_FILE } from '../../config/admin-token.ts';
import type { Config } from '../../config/config-types.ts';
import { type ConfigFlags, loadConfig, startedByNpm } from '../../config/load-config.ts';
import { createLogger } from '../../logger.ts';
import { type RunningHerald, startHerald } from '../../main.ts';
import { runCommand } from '../run-command.ts';

/** How long in-flight deliveries get to finish on SIGTERM/SIGINT before they are handed back. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How often a Herald that npm started checks that its parent process is still there. */
const PARENT_CHECK_MS = 250;

/** `herald serve`: run the API and/or the dispatcher until SIGTERM or SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('run Herald: HTTP API and dispatcher (see --role)')
    .option('-p, --port <port>', 'TCP port, 0 for any free port (env HERALD_PORT, default 8080)')
    .option('--host <host>', 'address to listen on (env HERALD_HOST, default 127.0.0.1)')
    .option('--database <url>', 'sqlite:PATH or postgres://… (env HERALD_DATABASE_URL)')
    .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./herald-data)')
    .option('--role <role>', 'api | worker | all (env HERALD_ROLE, default all)')
    .option('--allow-networks <cidrs>', 'private CIDRs deliveries may reach (env HERALD_ALLOW_NETWORKS)')
    .option('--log-level <level>', 'fatal … trace, or silent (env HERALD_LOG_LEVEL, default info)')
    .option('--public-url <url>', 'base URL used in links (env HERALD_PUBLIC_URL)')
    .action((flags: ConfigFlags) => runCommand(() => serve(flags)));
}

async function serve(flags: ConfigFlags): Promise<void> {
  const config = loadConfig({ flags });
  if (config.adminTokenGenerated) announceGeneratedToken(config);
  const logger = createLogger({ level: config.logLevel });
  // The handlers go in before the start: a SIGTERM that arrives while (or just after) the ready
  // line is logged must still shut down gracefully, not kill the process outright.
  let herald: RunningHerald | null = null;
  let stopping = false;
  const close = (running: RunningHerald) =>
    running.close({ graceMs: SHUTDOWN_GRACE_MS }).then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means "now": in-flight deliveries keep their leases and come back later.
      logger.warn({ signal }, 'second signal, exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    if (herald) void close(herald); // else: closed as soon as the start completes
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (startedByNpm()) {
    whenParentExits((parentPid) => {
      if (stopping) return; // a signal came first (Ctrl-C reaches npm, sh and Herald alike)
      logger.warn(
        { parentPid },
        'the npm process that started Herald exited without passing SIGTERM on (npm exec and npm run start it through sh); shutting down as on SIGTERM. Under a supervisor or in a container, start bin/herald.js itself (docs/deployment.md)',
      );
      stop('SIGTERM');
    });
  }
  herald = await startHerald(config, { logger });
  if (stopping) void close(herald);
}

/**
 * `npx herald serve` runs npm, which runs `sh -c herald serve`, which runs Herald. npm passes
 * SIGTERM to that shell only, and the shell (dash, Debian's sh) exits on it without passing it on;
 * npm then exits too, and Herald would run on as an orphan, database open and port taken. So a
 * Herald that npm started treats its parent's exit as the SIGTERM it did not get. (In a container
 * whose command is `npx herald serve`, npm is process 1 and its exit ends the container at once:
 * there only starting the bin directly helps, docs/deployment.md.)
 */
function whenParentExits(then: (parentPid: number) => void): void {
  const parentPid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    then(parentPid);
  }, PARENT_CHECK_MS);
  timer.unref();
}

/**
 * The one time a generated admin token is shown (DESIGN: "generated and printed once"). Written to
 * stderr directly, never through the logger, so it does not end up in shipped log lines.
 */
function announceGeneratedToken(config: Config): void {
  const file = join(config.dataDir, ADMIN_TOKEN_FILE);
  process.stderr.write(
    `herald: generated an admin token, stored in ${file} (shown only this once):\n\n` +
      `    ${config.adminToken}\n\n` +
      'herald: use it as "Authorization: Bearer <token>"; set HERALD_ADMIN_TOKEN to choose your own.\n',
  );
}
