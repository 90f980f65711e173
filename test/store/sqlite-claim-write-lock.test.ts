/**
 * A SQLite claim holds the write lock only for its lease (claims.ts claimDue, inside the store's
 * group commit); the events' payloads are read after the commit (withEvents). Read inside it, 136
 * due 1 MiB events held the lock 0.6-1.4 s a claim and the API thread's accepts waited for it
 * (bench/claim-write-lock.ts). What is read under the lock is counted in bytes, not timed: this
 * thread's read() bytes from the kernel (/proc/thread-self/io rchar), on a connection whose page
 * cache is cold (the events were written by another one), as the dispatcher thread's is for what
 * the API thread accepts. Two connections to one real file, as `herald serve` runs them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { newTurnCursor } from '../../src/store/claim-turns.ts';
import { openStore } from '../../src/store/open-store.ts';
import { claimDue, type ProbeCursor, unleaseUnread, withEvents } from '../../src/store/sqlite/claims.ts';
import { openDatabaseSqlite } from '../../src/store/sqlite/open-database.ts';
import { eventInput, projectWithEndpoints, SECOND, T0 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-claim-write-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MIB = 1024 * 1024;
const EVENTS = 8;

/** Bytes this thread has read through read()/pread() since it started (the kernel's count). */
const readBytes = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/thread-self/io', 'utf8'))![1]);

/**
 * A file with EVENTS due deliveries of distinct 1 MiB events (one endpoint), written and closed by
 * a store; then the dispatcher's connection and another (the API thread's), both fresh.
 */
async function setUp(name: string) {
  const file = join(dir, name, 'herald.db');
  const store = await openStore(`sqlite:${file}`);
  const { project } = await projectWithEndpoints(store, 1);
  const payloads: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const payload = { i, pad: `${i}`.padEnd(MIB, 'x') };
    payloads.push(JSON.stringify(payload));
    await store.acceptEvents(project.id, [eventInput('big', { payload })], T0);
  }
  await store.close();
  const dispatcher = openDatabaseSqlite(file, 0);
  const api = openDatabaseSqlite(file, 0);
  api.exec('PRAGMA busy_timeout = 0'); // a lock held elsewhere: SQLITE_BUSY at once
  return { project, payloads, dispatcher, api };
}

const claimOptions = { limit: 64, leaseMs: 60 * SECOND, now: T0 + SECOND, workerId: 'w' };
const leased = (db: DatabaseSync) =>
  Number(
    (db.prepare('SELECT count(*) AS n FROM deliveries WHERE leased_by IS NOT NULL').get() as { n: number }).n,
  );

test('a claim reads no payload while it holds the write lock: its byte cut counts sizes, and its events are read after the commit while another connection writes', async () => {
  const { payloads, dispatcher, api } = await setUp('read-after-commit');
  try {
    const probe: ProbeCursor = { turns: newTurnCursor() };
    dispatcher.exec('BEGIN IMMEDIATE'); // as the group commit runs the claim
    assert.throws(() => api.exec('BEGIN IMMEDIATE'), /locked|busy/i, 'the write lock is held');
    const before = readBytes();
    // Six events reach 5.5 MiB: the last two are given back.
    const claim = claimDue(dispatcher, { ...claimOptions, maxBytes: 5.5 * MIB }, probe);
    const underLock = readBytes() - before;
    dispatcher.exec('COMMIT');
    assert.ok(
      underLock < MIB,
      `${underLock} bytes read while the write lock was held (one payload is 1 MiB)`,
    );
    assert.equal(leased(dispatcher), 6, 'six leased, the two past the bytes given back');

    // The API thread takes the lock and writes while the claim's events are read.
    api.exec('BEGIN IMMEDIATE');
    api.exec(`UPDATE projects SET name = 'renamed'`);
    const start = readBytes();
    const claimed = withEvents(dispatcher, claim);
    const afterCommit = readBytes() - start;
    api.exec('COMMIT');
    assert.ok(afterCommit >= 6 * MIB, `the six payloads read after the commit (${afterCommit} bytes)`);
    assert.deepEqual(
      claimed.map((c) => c.payloadJson),
      payloads.slice(0, 6),
    );
    for (const c of claimed) {
      assert.equal(c.delivery.leasedUntil, claimOptions.now + claimOptions.leaseMs, 'named by its lease');
      assert.equal(c.event.id, c.delivery.eventId);
    }
  } finally {
    dispatcher.close();
    api.close();
  }
});

test('an event deleted between the claim and the read of its events: its delivery is left out, gone with it, and none is left leased', async () => {
  const { payloads, dispatcher, api } = await setUp('deleted-between');
  try {
    const probe: ProbeCursor = { turns: newTurnCursor() };
    dispatcher.exec('BEGIN IMMEDIATE');
    const claim = claimDue(dispatcher, claimOptions, probe);
    dispatcher.exec('COMMIT');
    assert.equal(claim.rows.length, EVENTS);
    // As retention or a project's delete removes events: their deliveries go too (ON DELETE CASCADE).
    const gone = String(claim.rows[2]!.event_id);
    api.exec('PRAGMA busy_timeout = 5000');
    api.prepare('DELETE FROM events WHERE id = ?').run(gone);
    const claimed = withEvents(dispatcher, claim);
    assert.equal(claimed.length, EVENTS - 1);
    assert.ok(claimed.every((c) => c.event.id !== gone));
    assert.deepEqual(
      claimed.map((c) => c.payloadJson),
      payloads.filter((_, i) => i !== 2),
    );
    assert.equal(leased(dispatcher), EVENTS - 1, 'leased: those returned, no other');
  } finally {
    dispatcher.close();
    api.close();
  }
});

test('a claim whose events could not be read is given back, but for a row under another lease since', async () => {
  const { dispatcher, api } = await setUp('unread');
  try {
    const probe: ProbeCursor = { turns: newTurnCursor() };
    const due = () =>
      dispatcher
        .prepare('SELECT id, next_attempt_at, leased_by, held_until, lease_until FROM deliveries ORDER BY id')
        .all();
    const asBefore = due();
    dispatcher.exec('BEGIN IMMEDIATE');
    const claim = claimDue(dispatcher, claimOptions, probe);
    dispatcher.exec('COMMIT');
    assert.equal(leased(dispatcher), EVENTS);
    // One row's lease ended and another worker leased it since.
    const taken = String(claim.rows[0]!.id);
    api.exec('PRAGMA busy_timeout = 5000');
    api
      .prepare(
        `UPDATE deliveries SET leased_by = 'other', lease_until = ?1, next_attempt_at = ?1, held_until = ?1 WHERE id = ?2`,
      )
      .run(T0 + 10 * 60 * SECOND, taken);
    unleaseUnread(dispatcher, claim, claimOptions.workerId);
    const now = due() as { id: string }[];
    assert.deepEqual(
      now.filter((r) => r.id !== taken),
      asBefore.filter((r) => (r as { id: string }).id !== taken),
      'given back as they were',
    );
    assert.equal(leased(dispatcher), 1, "the other worker's lease kept");
  } finally {
    dispatcher.close();
    api.close();
  }
});
