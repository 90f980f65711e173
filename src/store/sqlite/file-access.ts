/**
 * A database file this user may not read and write, said with its owner and mode. A copy put back
 * by another user (a backup restored as root, then `chmod 600` as the docs ask) keeps that user as
 * its owner, and SQLite's word for it is only "unable to open database file", which names no cause.
 */
import { accessSync, constants, statSync } from 'node:fs';

/** Throws when this process may not read and write `file` (fs.accessSync by default). */
export type AccessCheck = (file: string) => void;

const readWrite: AccessCheck = (file) => accessSync(file, constants.R_OK | constants.W_OK);

/**
 * What keeps this process from `file`: its owner and mode beside this process's uid, or null when
 * the file is not there, may be read and written, or the platform has no uids.
 */
export function fileAccessHint(
  file: string,
  access: AccessCheck = readWrite,
  uid: number | undefined = process.getuid?.(),
): string | null {
  if (uid === undefined) return null;
  let owner: number;
  let mode: number;
  try {
    ({ uid: owner, mode } = statSync(file));
  } catch {
    return null; // not there: the directory's problem, said by the caller
  }
  try {
    access(file);
    return null;
  } catch {
    // Not this user's to read and write: said below.
  }
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  const said = `${file} is owned by uid ${owner} with mode ${octal} and this process runs as uid ${uid}, which must read and write it`;
  // This user's own file made read-only (a backup restored with its archive's mode, chmod a-w):
  // a chown changes nothing there.
  if (owner === uid) return `${said}: chmod 600 it`;
  return `${said}: chown it to the user Herald runs as (a restored copy keeps the owner of whoever copied it)`;
}
