/**
 * Runs `suite` once over a SQLite store on disk and once over PostgreSQL (a database of its own per
 * `open`, on the server this test file starts or HERALD_TEST_DATABASE_URL), for API tests of one
 * behaviour on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Store } from '../../src/store/store.ts';
import { type TestPostgres, withPostgres } from './postgres.ts';

export type OpenStore = () => Promise<{ store: Store; done: () => Promise<void> }>;

/** Returns the PostgreSQL server's getter (set once the file's `before` ran), for tests of their own on it. */
export function onBothStores(suite: (name: string, open: OpenStore) => void): () => TestPostgres {
  suite('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-both-stores-'));
    const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
    return {
      store,
      done: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
  let server: TestPostgres;
  before(async () => {
    server = await withPostgres();
  });
  after(() => server.stop());
  suite('PostgreSQL', async () => {
    const store = new PostgresStore(await server.createDatabase());
    await store.migrate();
    return { store, done: () => store.close() };
  });
  return () => server;
}
