/**
 * After a full disk, the log says when writes go through again (store-unavailable.ts
 * whenWritesSucceed): PostgreSQL's group commit says so after each commit, as SQLite's does.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { whenWritesSucceed } from '../../src/store/store-unavailable.ts';
import { withPostgres } from '../support/postgres.ts';
import { eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

test('a committed accept on PostgreSQL runs what waits for writes to succeed, once', async () => {
  const store = new PostgresStore(await server.createDatabase());
  try {
    await store.migrate();
    const { project } = await projectWithEndpoints(store, 1);
    let ran = 0;
    whenWritesSucceed(() => ran++);
    await store.acceptEvents(project.id, [eventInput('a')], T0);
    assert.equal(ran, 1);
    await store.acceptEvents(project.id, [eventInput('a')], T0 + 1);
    assert.equal(ran, 1, 'once');
  } finally {
    await store.close();
  }
});
