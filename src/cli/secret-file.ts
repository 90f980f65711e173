/**
 * A secret a command reads from a file rather than its command line (`--secret-file PATH`, `-` for
 * stdin), where it would show in `ps` and shell history: `endpoints rotate-secret`, `listen`.
 */
import { readTextFile } from './read-text-file.ts';
import { CommandError } from './run-command.ts';

/**
 * The secret in `path` (`-`: stdin), without the line ending a file or `echo` ends it with; nothing
 * else is trimmed (a secret of the non-standard schemes is taken as it is). `flag` names it in the
 * errors, which never repeat the secret.
 */
export function readSecretFile(path: string, flag: string): string {
  const name = path === '-' ? 'stdin' : path;
  const secret = readTextFile(path === '-' ? 0 : path, flag, name, { requestBody: true }).replace(
    /\r?\n$/,
    '',
  );
  if (secret === '') throw new CommandError(`${flag}: ${name} is empty`);
  return secret;
}
