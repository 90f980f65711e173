/** Fills the file system a test mounted for it (a small tmpfs) through one file, for full-disk tests. */
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes `filler` until the file system is full: each chunk size until ENOSPC, the smaller ones
 * filling what the larger left. Free the space again by deleting `filler`.
 */
export function fillFileSystem(filler: string, sizes: readonly number[] = [1 << 20, 4096, 512]): void {
  const fd = openSync(filler, 'w');
  try {
    for (const size of sizes) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}
