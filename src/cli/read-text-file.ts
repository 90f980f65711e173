/**
 * A file the CLI sends on (`--data @file`, `--secret-file`, a catalog to import) as UTF-8 text, or
 * a CommandError naming the flag: read as a string, invalid bytes would become U+FFFD and be sent
 * and stored as that, where Herald refuses such bytes sent to it directly (400). A UTF-8 byte-order
 * mark at the start (Notepad, PowerShell's Out-File write one) is no part of the text: JSON.parse
 * refuses it, and in a secret it would sign with a character the user never typed. Stdin is read
 * up to MAX_STDIN_BYTES: more can be no request body any Herald takes, and it was read whole first.
 */
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { MAX_BODY_BYTES_LIMIT } from '../config/max-body-bytes-limit.ts';
import { cliIo } from './cli-io.ts';
import { CommandError } from './run-command.ts';

/** The most of stdin a flag takes: the largest HERALD_MAX_BODY_BYTES, 64 MiB. */
export const MAX_STDIN_BYTES = MAX_BODY_BYTES_LIMIT;

/** `path` (0: stdin, the run's: cli-io.ts) as text; `flag` and `name` say what, in the error. */
export function readTextFile(path: string | 0, flag: string, name: string): string {
  let bytes: Buffer;
  try {
    bytes = path === 0 ? cliIo().readStdin(MAX_STDIN_BYTES) : readFileSync(path);
  } catch (error) {
    throw new CommandError(`${flag}: cannot read ${name}`, { cause: error });
  }
  if (path === 0 && bytes.length > MAX_STDIN_BYTES) {
    throw new CommandError(
      `${flag}: ${name} holds more than ${MAX_STDIN_BYTES} bytes (64 MiB), the largest request body any Herald takes (HERALD_MAX_BODY_BYTES at most): nothing was sent`,
    );
  }
  if (!isUtf8(bytes)) throw new CommandError(`${flag}: ${name} is not valid UTF-8 text`);
  const text = bytes.toString('utf8');
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}
