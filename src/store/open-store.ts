import { closeSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeDirectory } from '../config/make-directory.ts';
import { decodeEncryptionKey } from '../config/parse-encryption-key.ts';
import type { LaterWriteReport } from './park-batch.ts';
import { createSecretCipher, PLAINTEXT_SECRETS, reportingOpens } from './secret-cipher.ts';
import { fileAccessHint } from './sqlite/file-access.ts';
import type { MigrationResult, Store } from './store.ts';

/** What the caller knows besides the URL (all optional). */
export interface OpenStoreOptions {
  /** Herald's data directory (the default database lives there; a relative sqlite: path does not use it). */
  dataDir?: string;
  /** HERALD_ENCRYPTION_KEY (32 bytes, hex or base64): endpoint secrets are sealed with AES-256-GCM. */
  encryptionKey?: string | null;
  /** HERALD_ENCRYPTION_KEY_PREVIOUS: keys being rotated out; secrets sealed with them still open. */
  previousEncryptionKeys?: readonly string[];
  /** SQLite only: the WAL size in pages at which this connection checkpoints (SqliteStoreOptions). */
  sqliteCheckpointPages?: number;
  /**
   * Told, for each sealed endpoint secret this store opens, whether its keys opened it (false: it
   * was sealed with a key this process was not given). The dispatcher's readiness (main.ts).
   */
  onSealedSecretOpen?: (opened: boolean) => void;
  /** Told of an enable's or a disable's later writes that fail and go through again (src/later-write-log.ts). */
  laterWrites?: LaterWriteReport;
  /** What the migration at open did (serve logs it). */
  onMigrated?: (result: MigrationResult) => void;
  /** PostgreSQL: what the migration at open waits for, while it waits on a lock (MigrationOptions.onWait). */
  onMigrationWait?: (line: string) => void;
  /** Each migration the open applies, before it applies it (MigrationOptions.onApplying). */
  onMigrationApplying?: (file: string) => void;
  /**
   * SQLite only: no connection of this process has the file open yet, so it may be read directly
   * to refuse another database's write-ahead log beside it (sqlite/foreign-wal.ts). Never for a
   * second open (the dispatcher thread's): closing any descriptor of the file drops every SQLite
   * lock the process holds on it (see below).
   */
  firstInProcess?: boolean;
  /**
   * SQLite only: called with the file's absolute path once it exists, before the store opens and
   * migrates it; what it throws is thrown as is. Serve takes its serving lock here, so a start
   * refused because another process serves the file has not migrated the file under it.
   */
  beforeOpen?: (file: string) => void;
  /**
   * Serve's start: every stored endpoint secret is opened with the keys given before any migration
   * is applied (Store.openAllSecrets), and the store is closed and the cipher's refusal thrown when
   * one does not open. A start refused for its key then leaves an older schema (a restored backup)
   * as it was, for the version it came from. `herald migrate` reads no secret and does not set it.
   */
  secretsBeforeMigrations?: boolean;
}

/**
 * Opens and migrates the store a database URL names: `sqlite:PATH` (relative to the working
 * directory; the directory is created), `sqlite::memory:` (tests), or `postgres://…`.
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  let store: Store;
  const key = options.encryptionKey ? decodeEncryptionKey(options.encryptionKey) : null;
  if (options.encryptionKey && !key) throw new Error('the encryption key must be 32 bytes as hex or base64');
  const previous = (options.previousEncryptionKeys ?? []).map((k) => {
    const bytes = decodeEncryptionKey(k);
    if (!bytes) throw new Error('a previous encryption key must be 32 bytes as hex or base64');
    return bytes;
  });
  if (previous.length && !key)
    throw new Error('previous encryption keys need a current HERALD_ENCRYPTION_KEY');
  const keyed = key ? createSecretCipher(key, previous) : PLAINTEXT_SECRETS;
  const cipher = options.onSealedSecretOpen ? reportingOpens(keyed, options.onSealedSecretOpen) : keyed;
  if (databaseUrl.startsWith('sqlite:')) {
    // Each backend's modules load only for its URL: node:sqlite and the SQLite store are not a
    // PostgreSQL process's, nor pg a SQLite one's.
    const { SqliteStore } = await import('./sqlite/sqlite-store.ts');
    const path = databaseUrl.slice('sqlite:'.length);
    if (path === '') throw new Error('sqlite: database URL needs a path (sqlite:PATH or sqlite::memory:)');
    const sqliteOptions = {
      ...(options.sqliteCheckpointPages === undefined
        ? {}
        : { checkpointPages: options.sqliteCheckpointPages }),
      ...(options.laterWrites ? { laterWrites: options.laterWrites } : {}),
    };
    if (path === ':memory:') {
      store = new SqliteStore(':memory:', cipher, sqliteOptions);
    } else {
      const file = resolve(path);
      // The database holds payloads, bodies and receivers' header values: its directory is the
      // owner's only, and a new file is made 0600 before SQLite opens it (its -wal and -shm files
      // take the database's permissions). `herald migrate` and `event-types import` come here too.
      // Only a file that does not exist yet ('wx'): closing any descriptor of a database this
      // process already has open drops all of the process's POSIX locks on it, and another program
      // (sqlite3, a backup) would then take itself for the last connection and delete the WAL,
      // with acknowledged writes in it. The dispatcher thread opens the same file a second time.
      try {
        makeDirectory(dirname(file), 0o700);
        createIfMissing(file, 0o600);
      } catch (error) {
        throw sqliteOpenError(file, error);
      }
      // A file Herald must not open (another database's log beside it, another program's
      // schema_migrations, the old file of a restore killed before its backup was in place) is
      // refused before beforeOpen makes a serving lock beside it: it is left as it was, with
      // nothing new in its directory. Until 2026-12-06 the refusal came after the lock, and left
      // an empty <file>.lock.
      if (options.firstInProcess) {
        const { refuseForeignWriteAheadLog } = await import('./sqlite/foreign-wal.ts');
        const { refuseForeignDatabaseSqlite } = await import('./sqlite/open-database.ts');
        const { refuseInterruptedRestore } = await import('./sqlite/interrupted-restore.ts');
        try {
          refuseInterruptedRestore(file);
          refuseForeignWriteAheadLog(file);
          refuseForeignDatabaseSqlite(file);
        } catch (error) {
          throw sqliteOpenError(file, error);
        }
      }
      options.beforeOpen?.(file);
      try {
        store = new SqliteStore(file, cipher, sqliteOptions);
      } catch (error) {
        throw sqliteOpenError(file, error);
      }
    }
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    store = new PostgresStore(databaseUrl, {
      cipher,
      ...(options.laterWrites ? { laterWrites: options.laterWrites } : {}),
    });
  } else {
    throw new Error(
      `unsupported database URL scheme "${databaseUrl.split(':')[0]}" (use sqlite:PATH or postgres://…)`,
    );
  }
  try {
    if (options.secretsBeforeMigrations) await store.openAllSecrets();
    // Not inside the optional call: `f?.(x)` does not evaluate x when f is missing.
    const migrated = await store.migrate({
      ...(options.onMigrationWait ? { onWait: options.onMigrationWait } : {}),
      ...(options.onMigrationApplying ? { onApplying: options.onMigrationApplying } : {}),
    });
    options.onMigrated?.(migrated);
  } catch (error) {
    await store.close();
    throw databaseUrl.startsWith('sqlite:') && isReadOnly(error)
      ? sqliteOpenError(resolve(databaseUrl.slice('sqlite:'.length)), error)
      : error;
  }
  return store;
}

/** SQLITE_READONLY (and its extended codes): the file or its directory is not writable. */
const isReadOnly = (error: unknown) =>
  typeof (error as { errcode?: unknown })?.errcode === 'number' &&
  ((error as { errcode: number }).errcode & 0xff) === 8;

/**
 * A SQLite file that cannot be created, opened or written, said with what to check: "attempt to
 * write a readonly database" alone names neither the file nor the setting.
 */
function sqliteOpenError(file: string, error: unknown): Error {
  const reason = (error as Error)?.message ?? String(error);
  const owner = fileAccessHint(file);
  if (owner)
    return new Error(`cannot use the SQLite database ${file}: ${reason}; ${owner}`, { cause: error });
  const code = (error as NodeJS.ErrnoException)?.code;
  // Where the file or its directory cannot be written or made: say which settings name them.
  const access =
    isReadOnly(error) || ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'EEXIST'].includes(String(code));
  const hint = access
    ? ' (the data directory, HERALD_DATA_DIR or --data-dir, or the sqlite: path of HERALD_DATABASE_URL, must be writable by this user)'
    : '';
  return new Error(`cannot use the SQLite database ${file}: ${reason}${hint}`, { cause: error });
}

/** Creates `file` with `mode` when it does not exist; never opens one that does. */
function createIfMissing(file: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  closeSync(fd);
}
