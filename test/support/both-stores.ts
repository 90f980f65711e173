/**
 * Runs `suite` once over a SQLite store on disk and once over PostgreSQL (a database of its own per
 * `open`, on the server this test file starts or HERALD_TEST_DATABASE_URL), for API tests of one
 * behaviour on both. Each PostgreSQL database is a copy of one migrated once per file
 * (migrated-databases.ts); `migrate()` still runs on it, with nothing to apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Store } from '../../src/store/store.ts';
import { migratedDatabases } from './migrated-databases.ts';
import { type TestPostgres, withPostgres } from './postgres.ts';

/** `url`: the database's HERALD_DATABASE_URL, for a test that starts Herald (or another store) on it too. */
export type OpenStore = () => Promise<{ store: Store; done: () => Promise<void>; url: string }>;

/**
 * Returns the PostgreSQL server's getter (set once the file's `before` ran), for tests of their own on
 * it. `sqlite: 'memory'` opens `sqlite::memory:` rather than a file (no fsync per write: for a suite
 * of many writes whose durability is not what it tests).
 */
export function onBothStores(
  suite: (name: string, open: OpenStore) => void,
  options: { sqlite?: 'file' | 'memory' } = {},
): () => TestPostgres {
  suite('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-both-stores-'));
    const url = options.sqlite === 'memory' ? 'sqlite::memory:' : `sqlite:${join(dir, 'herald.db')}`;
    const store = await openStore(url);
    return {
      store,
      url,
      done: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
  let server: TestPostgres;
  let migratedDatabase: () => Promise<string>;
  before(async () => {
    server = await withPostgres();
    migratedDatabase = migratedDatabases(server);
  });
  after(() => server.stop());
  suite('PostgreSQL', async () => {
    const url = await migratedDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    return { store, url, done: () => store.close() };
  });
  return () => server;
}
