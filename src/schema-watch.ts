/**
 * Re-reads, every SCHEMA_CHECK_INTERVAL_MS, which migrations the database has that this version
 * does not know. A start on such a schema is refused (HERALD_ALLOW_NEWER_SCHEMA, main.ts), but on
 * PostgreSQL an upgrade migrates the database under the processes still running the old version
 * (`herald migrate`, or the first new process's start), and they went on without a word, on a schema
 * they were not written for (docs/deployment.md#upgrades says what each migration means for them).
 * Now each says so once per new migration, at once: an error line naming the migrations and what to
 * do (a warning with HERALD_ALLOW_NEWER_SCHEMA, which lets it start on such a schema anyway), and
 * herald_schema_unknown_migrations. It keeps serving: a rolling upgrade relies on old processes
 * serving beside the new schema until each is replaced, and one made unready at the migration would
 * take every old process out of a load balancer at once. One read of schema_migrations per interval.
 */

export const SCHEMA_CHECK_INTERVAL_MS = 30_000;

export interface SchemaWatchLog {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SchemaWatch {
  /** How many migrations the database has that this version does not know, as last read. */
  unknownCount(): number;
  stop(): void;
}

export function startSchemaWatch(options: {
  /** Store.unknownMigrations. */
  read: () => Promise<string[]>;
  /** The unknown migrations the start found (and, allowed, already warned of): not news. */
  atStart: readonly string[];
  allowNewerSchema: boolean;
  log: SchemaWatchLog;
  intervalMs?: number;
}): SchemaWatch {
  const { read, log } = options;
  const said = new Set(options.atStart);
  let count = options.atStart.length;
  let reading = false;
  const check = async () => {
    if (reading) return; // a read still waiting on the database: no second one beside it
    reading = true;
    let unknown: string[];
    try {
      unknown = await read();
    } catch {
      return; // the database cannot be read: logged and counted by what else fails meanwhile
    } finally {
      reading = false;
    }
    count = unknown.length;
    if (unknown.every((name) => said.has(name))) return;
    for (const name of unknown) said.add(name);
    const message = `schema: the database now has ${unknown.length} migration(s) this version of Herald does not know (${unknown.join(', ')}): a newer version migrated it while this process runs. This process goes on serving on a schema it was not written for (docs/deployment.md, Upgrades, says what each migration means for processes of an older version): replace it with the new version. It would not start again on this database unless HERALD_ALLOW_NEWER_SCHEMA=true`;
    if (options.allowNewerSchema) log.warn({ unknownMigrations: unknown }, message);
    else log.error({ unknownMigrations: unknown }, message);
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? SCHEMA_CHECK_INTERVAL_MS);
  timer.unref();
  return {
    unknownCount: () => count,
    stop: () => clearInterval(timer),
  };
}
