/**
 * `herald` command line: turns arguments into options and calls the same functions the API and
 * the server use (serve, migrate, event-types), or a running Herald's API through @herald/client
 * (projects, portal-links, events, endpoints, deliveries, operational-events, event-types list|get,
 * listen). Loaded by bin/herald.js; runs on import.
 */
import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { commandGroups } from './command-groups.ts';

// `herald events list | head -1`: the reader went away, which is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('herald')
  .description('Herald: self-hosted webhook platform')
  .version(packageJson.version)
  .showHelpAfterError();
for (const command of commandGroups()) program.addCommand(command);

await program.parseAsync(process.argv);
