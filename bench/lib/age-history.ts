/**
 * Makes a database's history old: moves every event, delivery and attempt `shiftMs` back in time,
 * directly in the stopped database. No API creates an event in the past (Herald stamps each with
 * its own clock), and the retention scenario needs days-old history for a purge round to delete.
 * Both stores keep these times as integer epoch milliseconds. Ids keep the time they were made
 * with; the purge walks by `created_at`.
 */
import pg from 'pg';
import type { HeraldDatabase } from './herald-process.ts';

const SHIFTS = [
  'UPDATE events SET created_at = created_at - $shift',
  'UPDATE deliveries SET created_at = created_at - $shift, updated_at = updated_at - $shift',
  'UPDATE attempts SET started_at = started_at - $shift',
];

export async function ageHistory(db: HeraldDatabase, shiftMs: number): Promise<void> {
  if (db.kind === 'sqlite') await ageHistorySqlite(db.url.slice('sqlite:'.length), shiftMs);
  else await ageHistoryPostgres(db.url, shiftMs);
}

/**
 * One transaction, then the WAL written back and truncated: the scenario reads the WAL's peak
 * during the round, which must not start from this rewrite's. node:sqlite is loaded only here: it
 * warns that it is experimental when loaded, and a run without this scenario has no use for it.
 */
export async function ageHistorySqlite(file: string, shiftMs: number): Promise<void> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(file);
  try {
    db.exec('BEGIN');
    for (const sql of SHIFTS) db.prepare(sql.replaceAll('$shift', ':shift')).run({ shift: shiftMs });
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * Then VACUUM ANALYZE: the UPDATEs leave a dead version of every row behind, which a history that
 * grew old by itself would not have (autovacuum would have removed it long ago), and the purge
 * would walk through them.
 */
export async function ageHistoryPostgres(url: string, shiftMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const sql of SHIFTS) await client.query(sql.replaceAll('$shift', '$1::bigint'), [shiftMs]);
    await client.query('COMMIT');
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}
