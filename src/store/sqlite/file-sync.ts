/**
 * fsync for the files the backup and restore commands write: SQLite does not sync what `VACUUM
 * INTO` writes, and a rename is durable only once its directory is synced, so without these a
 * power cut soon after "backup written" could leave a target of the right name and missing pages.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Flushes `path`'s data (a file or, on Linux, a directory opened read-only) to the disk. */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
