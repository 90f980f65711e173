/**
 * What `herald copy-to-postgres` does, in the order that keeps it safe: refuse what cannot be
 * copied (a source that is missing, served, of a newer version, or whose secrets the given key does
 * not open; a target that holds data), bring both schemas to this version, copy in one PostgreSQL
 * transaction with the counts verified, and say what was copied and what the PostgreSQL processes
 * need (the same encryption key). Loaded by copy-to-postgres.ts only when the command runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { ADMIN_TOKEN_FILE } from '../../config/admin-token.ts';
import { ENCRYPTION_KEY_FILE, readEncryptionKeyFile } from '../../config/encryption-key-file.ts';
import type { loadConfig } from '../../config/load-config.ts';
import { queryTimeoutProblem } from '../../config/parse-addresses.ts';
import { decodeEncryptionKey } from '../../config/parse-encryption-key.ts';
import { redactDatabaseUrl } from '../../config/redact-database-url.ts';
import { counted } from '../../domain/counted.ts';
import { openStore } from '../../store/open-store.ts';
import { connectionConfig } from '../../store/postgres/pool.ts';
import { createSecretCipher, PLAINTEXT_SECRETS, type SecretCipher } from '../../store/secret-cipher.ts';
import { DatabaseInUseError, takeServingLock } from '../../store/sqlite/serving-lock.ts';
import {
  copyIntoPostgres,
  refuseNonEmptyTarget,
  refuseServedTarget,
  type TableCount,
} from '../../store/sqlite-to-postgres/copy-tables.ts';
import { checkSecrets, type SecretsCheck } from '../../store/sqlite-to-postgres/secrets-check.ts';
import { explainDatabaseError } from '../../store/store-unavailable.ts';
import { cliIo } from '../cli-io.ts';
import { CommandError } from '../run-command.ts';
import { report, reportText } from '../work-report.ts';
import { sqliteDatabaseFile } from './sqlite-database-file.ts';

export interface CopyFlags {
  to: string;
  from?: string;
  dataDir?: string;
}

/** What it did, on stdout (stderr when stdout cannot take it: the copy goes on, work-report.ts). */
const say = (lines: string[]) => report(lines, "the copy's report");
const progress = (line: string) => cliIo().stderr.write(`herald: ${line}\n`);

export async function copyToPostgres(flags: CopyFlags): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(flags.to)) {
    throw new CommandError(
      `--to: must be a PostgreSQL database URL (postgres://…), got ${redactDatabaseUrl(flags.to)}`,
    );
  }
  const timeoutProblem = URL.canParse(flags.to) ? queryTimeoutProblem(new URL(flags.to)) : null;
  if (timeoutProblem) throw new CommandError(`--to: ${timeoutProblem}`);
  const { file, config } = sqliteDatabaseFile(
    { database: flags.from, dataDir: flags.dataDir },
    'the copy reads a SQLite installation: give its database with --from sqlite:PATH or --data-dir DIR',
    '--from',
  );
  const from = config.databaseUrl;
  const to = flags.to;
  // openStore would create an empty database at a mistyped path, and the copy would copy nothing.
  if (!existsSync(file)) {
    throw new CommandError(
      `there is no SQLite database at ${file}: give the one herald serve uses with --from sqlite:PATH or --data-dir DIR`,
    );
  }
  const key = sealingKey(config);
  let lock: { release(): void };
  try {
    lock = takeServingLock(file);
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error;
    throw new CommandError(
      `a Herald process is serving ${file} (it holds ${file}.lock): stop it first, the copy needs the database at rest (nothing was copied)`,
    );
  }
  try {
    await copyWhileLocked(file, from, to, key, adminTokenNamed(config));
  } finally {
    lock.release();
  }
}

/** The admin token the PostgreSQL processes need, named as the key is (never the token itself). */
function adminTokenNamed(config: ReturnType<typeof loadConfig>): string {
  if (config.adminToken) return 'the same HERALD_ADMIN_TOKEN as this command';
  const file = join(config.dataDir, ADMIN_TOKEN_FILE);
  // The file is the token serve accepted only if serve ran without HERALD_ADMIN_TOKEN: with the
  // variable, the file (if any) holds an older, generated token that serve no longer took.
  return existsSync(file)
    ? `HERALD_ADMIN_TOKEN set to the token in ${file} (but if the SQLite installation's herald serve ran with HERALD_ADMIN_TOKEN, that one: it did not accept the file's then)`
    : "the HERALD_ADMIN_TOKEN the SQLite installation's herald serve had";
}

/** Where the key that sealed the secrets comes from, as the SQLite installation's serve took it. */
interface SealingKey {
  cipher: SecretCipher;
  /** How to name it to the operator (never the key itself), or null: no key. */
  named: string | null;
  previous: boolean;
}

function sealingKey(config: ReturnType<typeof loadConfig>): SealingKey {
  const fromFile = config.encryptionKey ? null : readEncryptionKeyFile(config.dataDir);
  const text = config.encryptionKey ?? fromFile;
  if (!text) return { cipher: PLAINTEXT_SECRETS, named: null, previous: false };
  const decode = (k: string) => decodeEncryptionKey(k)!;
  return {
    cipher: createSecretCipher(decode(text), config.previousEncryptionKeys.map(decode)),
    named: config.encryptionKey
      ? 'the same HERALD_ENCRYPTION_KEY as this command'
      : `HERALD_ENCRYPTION_KEY set to the key in ${join(config.dataDir, ENCRYPTION_KEY_FILE)} (PostgreSQL processes do not read that file)`,
    previous: config.previousEncryptionKeys.length > 0,
  };
}

async function copyWhileLocked(
  file: string,
  from: string,
  to: string,
  key: SealingKey,
  adminToken: string,
): Promise<void> {
  const target = redactDatabaseUrl(to);
  // Before any change to either database: a target with data, or served, is refused as it is found.
  await withClient(to, async (client) => {
    await refuseNonEmptyTarget(client);
    await refuseServedTarget(client);
  });
  const sourceMigrations = await migrate(from, { firstInProcess: true });
  const targetMigrations = await migrate(to, { setting: '--to' });
  await say([
    `source ${from}: ${migrationsLine(sourceMigrations)}`,
    `target ${target}: ${migrationsLine(targetMigrations)}`,
  ]);

  const db = new DatabaseSync(file, { timeout: 5_000 });
  try {
    const secrets = checkSecrets(db, key.cipher);
    if (secrets.unopened > 0) {
      throw new CommandError(
        `${secrets.unopened} endpoint secret(s) are sealed with a key this command was not given, so the PostgreSQL processes could not sign with them: run it with the HERALD_ENCRYPTION_KEY (and HERALD_ENCRYPTION_KEY_PREVIOUS) that herald serve on ${from} uses, or the --data-dir holding its encryption-key (nothing was copied)`,
      );
    }
    progress(`copying ${from} into ${target} in one transaction (nothing shows there until it commits)`);
    const result = await withClient(to, (client) =>
      copyIntoPostgres(db, client, {
        now: Date.now(),
        onTable: (count, ms) =>
          progress(`  ${count.table}: ${counted(count.rows, 'rows')} (${(ms / 1000).toFixed(1)} s)`),
        onProgress: (count) => progress(`  ${count.table}: ${counted(count.rows, 'rows')} so far…`),
      }),
    );
    // Committed by now: a stdout that cannot take the rest does not make it a failed copy.
    await reportText(countsTable(result.tables), "the copy's report");
    const total = result.tables.reduce((sum, t) => sum + t.rows, 0);
    const lines = [
      `copied ${counted(total, 'rows')} in ${counted(result.tables.length, 'tables')} into ${target}, in one transaction; each table's count in PostgreSQL matches SQLite's`,
    ];
    if (result.analyzeFailed !== null) {
      lines.push(
        `the copy is committed, but the ANALYZE after it failed (${result.analyzeFailed}): run ANALYZE on the database before serving it, or autovacuum will in time (until then PostgreSQL plans its first queries as if the tables were empty)`,
      );
    }
    if (result.claimsReset > 0) {
      lines.push(
        result.claimsReset === 1
          ? '1 delivery was being sent when SQLite stopped: it is due at once on PostgreSQL (its receiver may get it twice)'
          : `${result.claimsReset} deliveries were being sent when SQLite stopped: they are due at once on PostgreSQL (their receivers may get them twice)`,
      );
    }
    lines.push(
      secretsLine(secrets, key),
      `portal links made before the move are signed with the admin token: give every herald serve on PostgreSQL ${adminToken}, or those links stop working (and a process without it makes a token of its own)`,
      `${from} is unchanged: from now on run herald serve on ${target} only, never on the SQLite file again (its pending deliveries would be sent a second time)`,
    );
    await say(lines);
  } finally {
    db.close();
  }
}

interface Migrated {
  applied: string[];
  unknown: string[];
}

/**
 * Brings a database to this version's schema; refuses one a newer version migrated. `setting`:
 * where its URL came from, for the errors (default HERALD_DATABASE_URL, as serve's).
 */
async function migrate(
  url: string,
  { setting, ...options }: { firstInProcess?: boolean; setting?: string },
): Promise<Migrated> {
  let migrated: Migrated = { applied: [], unknown: [] };
  const store = await openStore(url, {
    ...options,
    onMigrationWait: (line) => progress(line),
    onMigrated: (result) => {
      migrated = result;
    },
  }).catch((error: unknown) => {
    throw explainDatabaseError(error, url, setting);
  });
  await store.close();
  if (migrated.unknown.length > 0) {
    throw new CommandError(
      `${redactDatabaseUrl(url)} has migrations this version of Herald does not know (${migrated.unknown.join(', ')}): a newer version migrated it; copy with that version (nothing was copied)`,
    );
  }
  return migrated;
}

function migrationsLine(m: Migrated): string {
  if (m.applied.length === 0) return 'schema up to date, nothing applied';
  const names = m.applied.length > 3 ? `${m.applied[0]} … ${m.applied.at(-1)}` : m.applied.join(', ');
  return `applied ${m.applied.length} migration(s) to bring it to this version's schema (${names})`;
}

function secretsLine(s: SecretsCheck, key: SealingKey): string {
  const count = s.sealed + s.plaintext;
  if (count === 0) {
    return key.named
      ? `no endpoint secrets to carry over; give the PostgreSQL processes ${key.named}, so the secrets of new endpoints are sealed`
      : 'no endpoint secrets to carry over';
  }
  const parts: string[] = [];
  if (s.sealed > 0) {
    parts.push(
      `${s.sealed} endpoint secret(s) copied sealed, as they were: every herald serve on PostgreSQL needs ${key.named}${key.previous ? ', and the same HERALD_ENCRYPTION_KEY_PREVIOUS' : ''}, or it cannot sign (a start without it is refused)`,
    );
  }
  if (s.plaintext > 0) {
    parts.push(
      `${s.plaintext} endpoint secret(s) were stored in plaintext: the first start with HERALD_ENCRYPTION_KEY seals them (docs/operations.md)`,
    );
  }
  return parts.join('; ');
}

function countsTable(tables: TableCount[]): string {
  const width = Math.max(...tables.map((t) => t.table.length), 'TABLE'.length);
  const lines = [
    `${'TABLE'.padEnd(width)}  ROWS`,
    ...tables.map((t) => `${t.table.padEnd(width)}  ${t.rows}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A client of the target (`--to`, as its errors say). */
async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  // No query or statement timeout: the copy of a large installation is one long transaction.
  const client = new pg.Client(connectionConfig(url));
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw explainDatabaseError(error, url, '--to');
  }
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
