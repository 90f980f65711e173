/**
 * What follows commander's own line after a usage mistake. Commander copies showHelpAfterError only
 * to subcommands made with .command(), not to those added with addCommand as ours are, so `herald
 * events list --bogus` said `error: unknown option '--bogus'` and nothing more.
 */
import type { Command } from 'commander';

/**
 * A group (`herald events`) prints its help, the list of its commands, after a mistake; a command
 * (`herald events list`) one line naming its own `--help`, since its help is long.
 */
export function helpAfterUsageErrors(command: Command, path: readonly string[] = []): void {
  const name = [...path, command.name()];
  if (command.commands.length > 0) {
    command.showHelpAfterError();
    for (const sub of command.commands) helpAfterUsageErrors(sub, name);
  } else {
    command.showHelpAfterError(`(\`${name.join(' ')} --help\` lists its arguments and options)`);
  }
}
