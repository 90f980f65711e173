/**
 * An enable resumes a parked backlog past one batch in later writes (park-batch.ts). One of those
 * writes failing (a full disk, the database out of reach a moment, a lock timeout) ended the loop:
 * the rest stayed parked on an active endpoint, which nothing claims, until a process started (its
 * dispatcher's sweep) or someone enabled the endpoint again, while endpoint.recovered had counted
 * them resumed. A failure is made certain here by a trigger that refuses every delivery made
 * pending past the enable's own batch, until the test drops it. Real SQLite file, real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import pg from 'pg';
import type { Endpoint } from '../../src/domain/types.ts';
import { laterWriteLog } from '../../src/later-write-log.ts';
import { laterRetry, parkBatch } from '../../src/store/park-batch.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { filePostgres } from '../support/postgres.ts';
import { eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const postgres = filePostgres();
const ROWS = parkBatch.rows;
after(() => {
  parkBatch.rows = ROWS;
});

/** The lines a store's later writes logged (laterWriteLog), as level and message with their fields. */
function capturedLog(): {
  lines: { level: string; fields: object; message: string }[];
  log: ReturnType<typeof laterWriteLog>;
} {
  const lines: { level: string; fields: object; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => lines.push({ level, fields, message });
  return { lines, log: laterWriteLog({ warn: at('warn'), info: at('info') }) };
}

/**
 * The loop's failure said once, as a warning naming the endpoint and the cause's message (never a
 * payload), and its write going through again said once after it.
 */
function assertLogged(lines: { level: string; fields: object; message: string }[], endpointId: string): void {
  const text = lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)}`);
  assert.equal(lines.length, 2, `two lines: ${text.join('\n')}`);
  assert.equal(lines[0]!.level, 'warn', text[0]);
  assert.match(lines[0]!.message, /resum/, text[0]);
  assert.match(text[0]!, new RegExp(endpointId), text[0]);
  assert.match(text[0]!, /disk full \(simulated\)/, text[0]);
  assert.equal(lines[1]!.level, 'info', text[1]);
  assert.match(lines[1]!.message, /again/, text[1]);
  assert.match(text[1]!, new RegExp(endpointId), text[1]);
  for (const line of text) assert.doesNotMatch(line, /"n":1/, 'no payload in a line');
}

/**
 * 9 parked deliveries of a disabled endpoint, enabled with batches of 2 while `refuse` makes every
 * later write fail; `allow` lets them through again. Resolves with their statuses once all are
 * pending, or after `ms`.
 */
async function resumeThroughFailure(
  store: Store,
  refuse: () => Promise<void>,
  allow: () => Promise<void>,
  ms: number,
): Promise<{ resumed: number | undefined; statuses: (string | undefined)[]; endpointId: string }> {
  const { project, endpoints } = await projectWithEndpoints(store, 1);
  const ep = endpoints[0]!;
  const accepted = await store.acceptEvents(
    project.id,
    Array.from({ length: 9 }, () => eventInput('a')),
    T0,
  );
  const ids = accepted.map((a) => a.deliveries[0]!.id);
  await store.updateEndpoint(project.id, ep.id, { active: false }, T0 + 1);
  await refuse();
  parkBatch.rows = 2;
  let resumed: number | undefined;
  try {
    resumed = (await store.enableEndpoint(project.id, ep.id, T0 + 2))?.resumed;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the later writes fail meanwhile
  } finally {
    parkBatch.rows = ROWS;
  }
  await allow();
  const statuses = async () =>
    Promise.all(ids.map(async (id) => (await store.getDelivery(project.id, id))?.status));
  const deadline = Date.now() + ms;
  let now = await statuses();
  while (!now.every((s) => s === 'pending') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    now = await statuses();
  }
  return { resumed, statuses: now, endpointId: ep.id };
}

test('SQLite: a later batch of an enable that fails is tried again: every parked delivery is resumed once writes go through', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'herald-later-failure-')), 'h.db');
  const { lines, log } = capturedLog();
  const store = new SqliteStore(path, undefined, { laterWrites: log });
  await store.migrate();
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA busy_timeout = 5000');
  try {
    const { resumed, statuses, endpointId } = await resumeThroughFailure(
      store,
      async () => {
        // Past the enable's own batch of 2: every later resume refused.
        raw.exec(`CREATE TABLE resumes (n INTEGER NOT NULL);
          INSERT INTO resumes VALUES (0);
          CREATE TRIGGER refuse_resume BEFORE UPDATE OF status ON deliveries WHEN NEW.status = 'pending'
          BEGIN
            UPDATE resumes SET n = n + 1;
            SELECT RAISE(ABORT, 'disk full (simulated)') WHERE (SELECT n FROM resumes) > 2;
          END`);
      },
      async () => {
        raw.exec('DROP TRIGGER refuse_resume');
      },
      5_000,
    );
    assert.equal(resumed, 9, 'the enable counted them all');
    assert.deepEqual(statuses, Array(9).fill('pending'), 'none left parked on the active endpoint');
    assertLogged(lines, endpointId);
  } finally {
    raw.close();
    await store.close();
  }
});

test('PostgreSQL: a later batch of an enable that fails is tried again: every parked delivery is resumed once writes go through', async () => {
  const url = await (await postgres()).createDatabase();
  const { lines, log } = capturedLog();
  const store = new PostgresStore(url, { laterWrites: log });
  await store.migrate();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { resumed, statuses, endpointId } = await resumeThroughFailure(
      store,
      async () => {
        await admin.query(`CREATE SEQUENCE resumes;
          CREATE FUNCTION refuse_resume() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF nextval('resumes') > 2 THEN RAISE EXCEPTION 'disk full (simulated)'; END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER refuse_resume BEFORE UPDATE OF status ON deliveries
            FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION refuse_resume()`);
      },
      async () => {
        await admin.query('DROP TRIGGER refuse_resume ON deliveries');
      },
      5_000,
    );
    assert.equal(resumed, 9, 'the enable counted them all');
    assert.deepEqual(statuses, Array(9).fill('pending'), 'none left parked on the active endpoint');
    assertLogged(lines, endpointId);
  } finally {
    await admin.end();
    await store.close();
  }
});

test("SQLite: the start's sweep of parked deliveries on active endpoints goes on past an endpoint whose resume keeps failing", async () => {
  // The sweep resumed one endpoint at a time, each to its end: since a failed resume is tried again
  // until it goes through, one endpoint whose writes kept failing held up every endpoint after it.
  const path = join(mkdtempSync(join(tmpdir(), 'herald-later-sweep-')), 'h.db');
  const store = new SqliteStore(path, undefined, { laterWrites: capturedLog().log });
  await store.migrate();
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA busy_timeout = 5000');
  const retry = { ...laterRetry };
  laterRetry.firstMs = 50;
  laterRetry.maxMs = 200;
  try {
    const { project, endpoints } = await projectWithEndpoints(store, 2);
    const [a, b] = endpoints as [Endpoint, Endpoint];
    const accepted = await store.acceptEvents(project.id, [eventInput('x'), eventInput('x')], T0);
    const of = (endpointId: string) =>
      accepted.flatMap((e) => e.deliveries.filter((d) => d.endpointId === endpointId).map((d) => d.id));
    const statuses = (ids: string[]) =>
      Promise.all(ids.map(async (id) => (await store.getDelivery(project.id, id))?.status));
    // Parked on active endpoints (a resume cut short by a stop), the sweep's to resume; a's, the
    // first endpoint it finds, refused.
    raw.exec(`UPDATE deliveries SET status = 'parked' WHERE status = 'pending'`);
    raw.exec(`CREATE TRIGGER refuse_a BEFORE UPDATE OF status ON deliveries
      WHEN NEW.status = 'pending' AND NEW.endpoint_id = '${a.id}'
      BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END`);
    const sweep = store.resumeStrandedParked(T0 + 5);
    const deadline = Date.now() + 5_000;
    while ((await statuses(of(b.id))).some((s) => s !== 'pending') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await statuses(of(b.id)), ['pending', 'pending'], "b's resumed while a's keep failing");
    assert.deepEqual(await statuses(of(a.id)), ['parked', 'parked']);
    raw.exec('DROP TRIGGER refuse_a');
    assert.equal(await sweep, 2, 'two endpoints had some');
    assert.deepEqual(await statuses(of(a.id)), ['pending', 'pending'], "a's once its writes go through");
  } finally {
    Object.assign(laterRetry, retry);
    raw.close();
    await store.close();
  }
});
