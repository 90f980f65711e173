/**
 * Reading a file up to a bound, for every file Herald is given: the CLI's (src/cli/read-text-file.ts,
 * 64 MiB) and those a start reads (src/config/read-start-file.ts: a CA bundle, the data directory's
 * key and token files). Each caller turns the two refusals below into its own error (CommandError,
 * ConfigError), naming its flag or variable.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** `path` holds more than `maxBytes`: by its size (`size`), or read that far (`size` null: a pipe). */
export class FileTooLargeError extends Error {
  readonly path: string;
  readonly maxBytes: number;
  readonly size: number | null;
  constructor(path: string, maxBytes: number, size: number | null) {
    super(`${path} holds more than ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
    this.path = path;
    this.maxBytes = maxBytes;
    this.size = size;
  }
}

/** `path` is no regular file (`kind`: "a named pipe", "a character device", …) where one must be. */
export class NotRegularFileError extends Error {
  readonly path: string;
  readonly kind: string;
  constructor(path: string, kind: string) {
    super(`${path} is ${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
    this.path = path;
    this.kind = kind;
  }
}

/**
 * The file at `path`, at most `maxBytes` of it, else FileTooLargeError: a regular file larger by
 * its size is refused before any of it is read; one that is not regular (a pipe: `--data
 * @/dev/stdin`, `<(jq …)`) has no size to tell, and is read up to the bound. With `regularOnly`
 * such a file is refused instead (NotRegularFileError), and without waiting: it is opened
 * non-blocking, so a named pipe no one writes to is refused, where a plain open would wait for a
 * writer forever.
 */
export function readFileUpTo(path: string, maxBytes: number, { regularOnly = false } = {}): Buffer {
  const fd = openSync(path, regularOnly ? constants.O_RDONLY | constants.O_NONBLOCK : 'r');
  try {
    const stat = fstatSync(fd);
    if (regularOnly && !stat.isFile()) throw new NotRegularFileError(path, fileKind(stat));
    if (stat.isFile() && stat.size > maxBytes) throw new FileTooLargeError(path, maxBytes, stat.size);
    const bytes = readUpTo(fd, maxBytes + 1);
    if (bytes.length > maxBytes) throw new FileTooLargeError(path, maxBytes, null);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** The first `limit` bytes of file descriptor `fd`, or all it holds when less. */
export function readUpTo(fd: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(limit - total, 64 * 1024));
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) break;
    chunks.push(chunk.subarray(0, read));
    total += read;
  }
  return Buffer.concat(chunks, total);
}

function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'no regular file';
}
