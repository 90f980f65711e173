/**
 * One run of `herald ARGS` on `io` (cli-io.ts), resolving to its exit code instead of ending the
 * process: the bin (main.ts) passes the process's own, the tests their own streams. Commander's
 * output and its exits (--help, --version, a usage mistake) go to the same io.
 */
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { type CliIo, type CliOutput, setExitCode, withCliIo } from './cli-io.ts';
import { commandGroupsFor } from './command-groups.ts';
import { helpAfterUsageErrors } from './help-after-errors.ts';

/** Runs `argv` (the arguments after `herald`) and resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('herald')
    .description('Herald: self-hosted webhook platform')
    .version(packageJson.version)
    .showHelpAfterError();
  for (const command of await commandGroupsFor(argv)) program.addCommand(command);
  helpAfterUsageErrors(program);
  onIo(program, io);
  return withCliIo(io, async () => {
    try {
      await program.parseAsync(argv, { from: 'user' });
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      // Its message is already written (outputError); --help and --version end with 0.
      setExitCode(error.exitCode);
    }
  });
}

/**
 * Commander copies its output settings and exitOverride only to subcommands made with .command(),
 * not to those added with addCommand as ours are: each command gets them here.
 */
function onIo(command: Command, io: CliIo): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
    getOutHelpWidth: () => width(io.stdout),
    getErrHelpWidth: () => width(io.stderr),
    getOutHasColors: () => colors(io.env) ?? hasColors(io.stdout),
    getErrHasColors: () => colors(io.env) ?? hasColors(io.stderr),
  });
  for (const sub of command.commands) onIo(sub, io);
}

/** A terminal's width, or 80 (commander's own when it is not one). */
const width = (stream: CliOutput): number => (stream.isTTY && stream.columns ? stream.columns : 80);
const hasColors = (stream: CliOutput): boolean => Boolean(stream.isTTY && stream.hasColors?.());

/** As commander's own useColor, from the run's environment rather than the process's. */
function colors(env: NodeJS.ProcessEnv): boolean | undefined {
  if (env.NO_COLOR || env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.FORCE_COLOR || env.CLICOLOR_FORCE !== undefined) return true;
  return undefined;
}
