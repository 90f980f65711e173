/**
 * Inputs past a size bound, for the bounded reads of the CLI (src/cli/read-text-file.ts) and of a
 * start (src/config/read-start-file.ts): a sparse file of an exact size, and a named pipe written to
 * until the reader stops reading.
 */
import { closeSync, createWriteStream, openSync, writeSync } from 'node:fs';

/** A file of `bytes` bytes at `path`, sparse: `{` and then NULs, so neither JSON nor PEM nor a secret. */
export function sparseFile(path: string, bytes: number): string {
  const fd = openSync(path, 'w');
  writeSync(fd, '{');
  writeSync(fd, '}', bytes - 1);
  closeSync(fd);
  return path;
}

/**
 * Writes `text` into the named pipe `fifo` (opened once a reader opens it): `'all written'`, or the
 * error's code when the reader closed it first (`EPIPE`: it read no further).
 */
export function writeToFifo(fifo: string, text: string): Promise<string> {
  const writer = createWriteStream(fifo);
  const written = new Promise<string>((resolve) => {
    writer.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
    writer.on('finish', () => resolve('all written'));
  });
  writer.end(text);
  return written;
}
