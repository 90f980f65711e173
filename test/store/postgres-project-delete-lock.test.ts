/**
 * A project's delete and an accept in flight for it, on a real PostgreSQL. An accept batch locks the
 * project's row FOR KEY SHARE and reads it only when it is not `deleting` (accept-batch.ts); the
 * delete's first transaction marks it `deleting`. Unless that transaction takes a lock the accept's
 * conflicts with, an accept whose statement began just before it went on and stored its events (and
 * their callbacks) after the delete had closed the project's pending callbacks: sent while the history
 * steps ran, and after a stop until the next start.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { lockWaitOn } from '../support/postgres-lock-wait.ts';
import { T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

for (const uid of [null, 'with-uid']) {
  test(`a project's delete (uid ${uid ?? 'none'}) waits for an accept that locked the project before it began`, async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const accept = new pg.Client(url);
    const watch = new pg.Client(url);
    await accept.connect();
    await watch.connect();
    try {
      const project = await store.createProject({ name: 'p', ...(uid ? { uid } : {}) }, T0);
      await accept.query('BEGIN');
      // The accept batch's lock (accept-batch.ts), taken before the delete began.
      const { rowCount } = await accept.query(
        'SELECT id FROM projects WHERE id = ANY($1::text[]) AND NOT deleting FOR KEY SHARE',
        [[project.id]],
      );
      assert.equal(rowCount, 1);
      const deleted = store.deleteProject(project.id);
      // Before, the first step committed `deleting` under the accept's lock when the project had
      // no uid (clearing a null uid changes no key column, so its update did not conflict).
      const waited = await lockWaitOn(watch, 'projects');
      const { rows } = await watch.query('SELECT deleting FROM projects WHERE id = $1', [project.id]);
      assert.deepEqual(
        { waited, deleting: rows[0]?.deleting },
        { waited: true, deleting: false },
        'the delete waits for the accept',
      );
      await accept.query('COMMIT');
      assert.equal(await deleted, true);
      assert.equal(await store.getProject(project.id), null);
    } finally {
      await accept.end();
      await watch.end();
      await store.close();
    }
  });
}
