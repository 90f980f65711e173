/**
 * What `herald migrate` does: apply the migrations a database lacks and say which. Loaded by
 * migrate.ts only when the command runs.
 */
import { type ConfigFlags, loadConfig } from '../../config/load-config.ts';
import { newerSchemaError } from '../../config/newer-schema-error.ts';
import { redactDatabaseUrl } from '../../config/redact-database-url.ts';
import { openStore } from '../../store/open-store.ts';
import type { ServingLock } from '../../store/sqlite/serving-lock.ts';
import { explainDatabaseError } from '../../store/store-unavailable.ts';
import { cliIo } from '../cli-io.ts';
import { CommandError } from '../run-command.ts';
import { report } from '../work-report.ts';

/** Creates or upgrades the schema of the configured database, printing each migration applied. */
export async function migrate(flags: Pick<ConfigFlags, 'database' | 'dataDir'>): Promise<void> {
  const config = loadConfig({ flags, resolveAdminToken: false, env: cliIo().env });
  const url = config.databaseUrl;
  // openStore applies what is missing under a lock, so other processes may migrate at the same
  // time: what this one applied is what it reports, not what the database lacked before the lock.
  let applied: string[] = [];
  let unknown: string[] = [];
  // A SQLite file is migrated only while no process serves it (its serving lock, as serve, restore
  // and copy-to-postgres hold it): the one serving it, an older version in an upgrade, would go on
  // on a schema it was not written for, and refuse to start again.
  const serving: { lock: ServingLock | null } = { lock: null };
  // Loaded for SQLite only: it brings node:sqlite, which a PostgreSQL migration does not use.
  const servingLocks = url.startsWith('sqlite:') ? await import('../../store/sqlite/serving-lock.ts') : null;
  try {
    const store = await openStore(url, {
      dataDir: config.dataDir,
      encryptionKey: config.encryptionKey,
      firstInProcess: true,
      ...(servingLocks
        ? {
            beforeOpen: (file: string) => {
              serving.lock = lockAtRest(servingLocks, file);
            },
          }
        : {}),
      onMigrationWait: (line) => cliIo().stderr.write(`herald: ${line}\n`),
      onMigrationApplying: (file) => cliIo().stderr.write(`herald: applying ${file}\n`),
      onMigrated: (result) => {
        applied = result.applied;
        unknown = result.unknown;
      },
    }).catch((error: unknown) => {
      throw error instanceof CommandError ? error : explainDatabaseError(error, url);
    });
    await store.close();
  } finally {
    serving.lock?.release();
  }
  // The migrations are applied by now: a stdout that cannot take the report (a full disk) is said
  // on stderr with it, exit code 0 (work-report.ts).
  const lines = applied.map((file) => `applied ${file}`);
  if (unknown.length > 0) {
    if (!config.allowNewerSchema) {
      if (lines.length > 0) await report(lines, "the migration's report");
      throw newerSchemaError(unknown, config);
    }
    cliIo().stderr.write(
      `herald: warning: the database has migrations this version does not know (${unknown.join(', ')}): a newer Herald applied them; downgrades are not supported\n`,
    );
  }
  lines.push(
    applied.length
      ? `schema is up to date (${redactDatabaseUrl(url)}): ${applied.length} migration(s) applied`
      : `schema is up to date (${redactDatabaseUrl(url)}): nothing to apply`,
  );
  await report(lines, "the migration's report");
}

/** The serving lock of SQLite `file`, or a CommandError when a process serves it. */
function lockAtRest(
  { takeServingLock, DatabaseInUseError }: typeof import('../../store/sqlite/serving-lock.ts'),
  file: string,
): ServingLock {
  try {
    return takeServingLock(file);
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error;
    throw new CommandError(
      `another Herald process holds ${file}.lock (it serves ${file}, or restores, copies or migrates it): stop it first, herald migrate would change the schema under it (nothing was changed)`,
    );
  }
}
