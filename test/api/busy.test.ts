/**
 * A database that stays busy past the busy timeout answers 503 with Retry-After, not 500, and
 * nothing of the refused request is kept: sent again once the lock is free, it is accepted once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { isStoreBusy, isStoreFull } from '../../src/store/store-unavailable.ts';
import { assertError, startApi } from './helpers.ts';

test('an event sent while another connection holds the write lock gets 503 and Retry-After; sent again, it is accepted once', async () => {
  const api = await startApi({}, { onDisk: true });
  const other = new DatabaseSync(join(api.dir, 'herald.db'));
  try {
    const project = await api.project('busy');
    const event = { type: 'player.paid', payload: { amount: 5 } };
    other.exec('BEGIN IMMEDIATE'); // held past the store's busy timeout (5 s)
    const refused = await api.call('POST', `/api/v1/projects/${project.id}/events`, event);
    assertError(refused, 503, 'HERALD_ERR_BUSY');
    assert.equal(refused.headers['retry-after'], '1');
    other.exec('ROLLBACK');
    const accepted = await api.call('POST', `/api/v1/projects/${project.id}/events`, event);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const listed = await api.call('GET', `/api/v1/projects/${project.id}/events`);
    assert.equal(listed.body.data.length, 1);
  } finally {
    other.close();
    await api.close();
  }
});

test('isStoreBusy: SQLite busy or locked (extended codes too) and PostgreSQL lock, serialization and deadlock errors', () => {
  assert.equal(isStoreBusy({ code: 'ERR_SQLITE_ERROR', errcode: 5 }), true);
  assert.equal(isStoreBusy({ code: 'ERR_SQLITE_ERROR', errcode: 5 | (2 << 8) }), true); // SQLITE_BUSY_SNAPSHOT
  assert.equal(isStoreBusy({ code: 'ERR_SQLITE_ERROR', errcode: 6 }), true);
  assert.equal(isStoreBusy({ code: 'ERR_SQLITE_ERROR', errcode: 19 }), false); // a constraint
  for (const code of ['55P03', '40001', '40P01']) assert.equal(isStoreBusy({ code }), true, code);
  assert.equal(isStoreBusy({ code: '23505' }), false); // unique violation
  assert.equal(isStoreBusy(new Error('boom')), false);
  assert.equal(isStoreBusy(null), false);
});

test('isStoreFull: SQLite full (a real error from a database at its size limit) and PostgreSQL disk_full', () => {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (v TEXT)');
  db.exec(`PRAGMA max_page_count = ${Number(db.prepare('PRAGMA page_count').get()!.page_count) + 2}`);
  const full = (() => {
    try {
      db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(100_000));
    } catch (error) {
      return error;
    }
    return null;
  })();
  db.close();
  assert.equal(isStoreFull(full), true, String(full));
  assert.equal(isStoreBusy(full), false);
  assert.equal(isStoreFull({ code: '53100' }), true);
  assert.equal(isStoreFull({ code: '40001' }), false);
  assert.equal(isStoreFull(new Error('boom')), false);
});
