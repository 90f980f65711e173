/**
 * A file the CLI sends on (`--data @file`, `--secret-file`, a catalog to import) as UTF-8 text, or
 * a CommandError naming the flag: read as a string, invalid bytes would become U+FFFD and be sent
 * and stored as that, where Herald refuses such bytes sent to it directly (400). A UTF-8 byte-order
 * mark at the start (Notepad, PowerShell's Out-File write one) is no part of the text: JSON.parse
 * refuses it, and in a secret it would sign with a character the user never typed. Stdin and every
 * file are read up to MAX_STDIN_BYTES: for one whose text goes into a request body (`requestBody`:
 * `--data @FILE`, `--settings @FILE`, `--secret-file`) more can be no request body any Herald takes,
 * and it was read whole first (a file of any size, before 2026-12-07); a catalog to import and a
 * `--forward-ca-file` were read whole until 2026-12-07 (a 256 MiB file took the process to ~600 MB
 * before it was refused as no JSON, or no certificate), and /dev/zero without end.
 */
import { isUtf8 } from 'node:buffer';
import { MAX_BODY_BYTES_LIMIT } from '../config/max-body-bytes-limit.ts';
import { FileTooLargeError, readFileUpTo } from '../config/read-file-up-to.ts';
import { cliIo } from './cli-io.ts';
import { CommandError } from './run-command.ts';

/** The most of stdin, or of a file, a flag takes: the largest HERALD_MAX_BODY_BYTES, 64 MiB. */
export const MAX_STDIN_BYTES = MAX_BODY_BYTES_LIMIT;

/**
 * `path` (0: stdin, the run's: cli-io.ts) as text; `flag` and `name` say what, in the error. One
 * over MAX_STDIN_BYTES is refused; `requestBody` (the text is sent in a request body) says in the
 * refusal that no Herald takes such a body, else it says the bound is the CLI's own (a catalog to
 * import is stored one event type at a time, a CA file is a few certificates).
 */
export function readTextFile(
  path: string | 0,
  flag: string,
  name: string,
  { requestBody = false }: { requestBody?: boolean } = {},
): string {
  const why =
    path === 0 || requestBody
      ? 'the largest request body any Herald takes (HERALD_MAX_BODY_BYTES at most): nothing was sent'
      : 'the most herald reads of a file it is given: nothing was done with it';
  const tooLarge = () =>
    new CommandError(`${flag}: ${name} holds more than ${MAX_STDIN_BYTES} bytes (64 MiB), ${why}`);
  let bytes: Buffer;
  try {
    // A file larger by its size is refused before it is read; a pipe is read up to the bound.
    bytes = path === 0 ? cliIo().readStdin(MAX_STDIN_BYTES) : readFileUpTo(path, MAX_STDIN_BYTES);
  } catch (error) {
    if (error instanceof CommandError) throw error;
    if (error instanceof FileTooLargeError) throw tooLarge();
    throw new CommandError(`${flag}: cannot read ${name}`, { cause: error });
  }
  if (bytes.length > MAX_STDIN_BYTES) throw tooLarge();
  if (!isUtf8(bytes)) throw new CommandError(`${flag}: ${name} is not valid UTF-8 text`);
  const text = bytes.toString('utf8');
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}
