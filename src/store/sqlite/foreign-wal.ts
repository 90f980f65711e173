/**
 * A write-ahead log that is not the database's own. A restore puts a copy in place of herald.db; a
 * crashed or killed process left herald.db-wal (and -shm) beside the old file, and SQLite has no
 * way to tell whose log it is: switching the copy to WAL mode, it applies that log's pages to the
 * copy ("database disk image is malformed" at best, damaged data at worst), and the first
 * checkpoint writes them into the file.
 *
 * A database Herald has opened is in WAL mode for good (bytes 18 and 19 of its header are 2), and
 * a database leaves WAL mode only after a checkpoint that deletes its log. So a log with frames
 * beside a database in rollback-journal mode (1: a `VACUUM INTO` copy, the documented backup) is
 * another database's: refused, before SQLite opens the file. (A copy of a WAL-mode file, made
 * while Herald was stopped, cannot be told apart this way; the restore steps say to delete both.)
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The WAL header; a log no longer than it holds no frames. */
const WAL_HEADER_BYTES = 32;

/** SQLite's header bytes 18 and 19 (file format write and read version): 1 rollback journal, 2 WAL. */
export function journalModeOfHeader(header: Uint8Array): 'rollback' | 'wal' | null {
  if (header.length < 20) return null;
  if (header[18] === 1 && header[19] === 1) return 'rollback';
  if (header[18] === 2 && header[19] === 2) return 'wal';
  return null;
}

/** Throws, naming the files to delete, when `file`'s -wal cannot be its own (see above). */
export function refuseForeignWriteAheadLog(file: string): void {
  let walBytes: number;
  try {
    walBytes = statSync(`${file}-wal`).size;
  } catch {
    return; // no log: nothing to apply
  }
  if (walBytes <= WAL_HEADER_BYTES) return;
  const header = new Uint8Array(100);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, header, 0, header.length, 0) < header.length) return; // new or empty: no header yet
  } finally {
    closeSync(fd);
  }
  if (journalModeOfHeader(header) !== 'rollback') return;
  throw new Error(
    `${file}-wal lies beside a database that is not in WAL mode (a copy put in place, such as a VACUUM INTO backup): it is the write-ahead log of the database that was there before, and SQLite would apply it to this one and damage it. With no Herald process running, delete ${file}-wal and ${file}-shm, then start again`,
  );
}
