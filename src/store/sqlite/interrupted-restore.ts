/**
 * A `herald restore` that stopped (killed, a crash, a power cut) while it put a backup in place.
 * It links the database that was there, and each of its -wal, -shm and -journal, to
 * `<file>.before-restore-<time>[-wal…]`, removes the old companions' own names, then renames the
 * copy over `<file>` (restore-run.ts). Until that rename `<file>` and its aside name are one file
 * (one inode): a process opening it then would serve, migrate or copy the database that was there,
 * perhaps without its -wal (its frames only under the aside name), and the aside name would be a
 * second name of a database that changes. Refused, naming the way out; nothing is changed here.
 * So is the empty file a restore into a new database left beside its copy (refuseEmptyBesideCopy).
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Between a database's name and the time of the restore that moved it aside. */
export const ASIDE_MARK = '.before-restore-';

/** Between a database's name and the pid of the restore copying a backup beside it. */
export const INCOMING_MARK = '.restoring-';

/** The files beside a SQLite database that belong to it. */
export const COMPANIONS = ['-wal', '-shm', '-journal'] as const;

/**
 * The aside name (`<file>.before-restore-<time>`) that is `file` itself, or null when none is.
 * `file` is where a symbolic link leads (realpathSync), as for the restore and SQLite's -wal.
 */
export function interruptedAside(file: string): string | null {
  let own: ReturnType<typeof statSync>;
  try {
    own = statSync(file);
  } catch {
    return null; // none yet
  }
  if (own.nlink < 2) return null; // no second name: no restore between its link and its rename
  const prefix = `${basename(file)}${ASIDE_MARK}`;
  for (const name of readdirSync(dirname(file))) {
    if (!name.startsWith(prefix) || COMPANIONS.some((s) => name.endsWith(s))) continue;
    const aside = statSync(join(dirname(file), name), { throwIfNoEntry: false });
    if (aside && aside.ino === own.ino && aside.dev === own.dev) return join(dirname(file), name);
  }
  return null;
}

/** Throws, naming the files and what to do, when a restore into `file` was interrupted (see above). */
export function refuseInterruptedRestore(named: string): void {
  const file = existsSync(named) ? realpathSync(named) : named;
  const aside = interruptedAside(file);
  if (aside === null) {
    refuseEmptyBesideCopy(file);
    return;
  }
  const present = (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined;
  // Names the restore had removed: the old database's frames are under the aside name only.
  const removed = COMPANIONS.filter(
    (s) => s !== '-shm' && present(`${aside}${s}`) && !present(`${file}${s}`),
  );
  const asideFiles = ['', ...COMPANIONS]
    .filter((s) => !(removed as string[]).includes(s))
    .map((s) => `${aside}${s}`)
    .filter(present);
  const copies = leftCopies(file);
  const back = removed.map((s) => `move ${aside}${s} back to ${file}${s}, then `).join('');
  const leftovers = copies.length > 0 ? ` (and the restore's unfinished copy: ${copies.join(', ')})` : '';
  throw new Error(
    `an interrupted herald restore: ${file} is still the database that was there, and is also named ${aside}, its name once the backup is in place${removed.length > 0 ? `, its ${removed.join(' and ')} under that name only` : ''}. With no Herald process running, run the same herald restore again to put the backup in place; or, to keep the database that was there, ${back}delete ${asideFiles.join(', ')}${leftovers}`,
  );
}

/**
 * Into a new database, a restore makes an empty `file` (for its lock to sit beside) and renames
 * its copy over it: killed before, it leaves that empty file, which a start would make a new,
 * empty database of, beside the copy. Read only for an empty file (a new installation).
 */
function refuseEmptyBesideCopy(file: string): void {
  if (statSync(file, { throwIfNoEntry: false })?.size !== 0) return;
  const copies = leftCopies(file);
  if (copies.length === 0) return;
  throw new Error(
    `a herald restore into a new database, running or interrupted: ${file} is the empty file it made, and its copy of the backup (${copies.join(', ')}) is not in place yet. With no Herald process running, run the same herald restore again; or, to start on a new, empty database instead, delete ${copies.join(', ')}`,
  );
}

/** `<file>.restoring-<pid>` files (and their -wal, -shm): restores' copies not yet in place. */
function leftCopies(file: string): string[] {
  const prefix = `${basename(file)}${INCOMING_MARK}`;
  return readdirSync(dirname(file))
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(dirname(file), name));
}
