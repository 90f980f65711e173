import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** What the caller knows besides the URL (all optional). */
export interface OpenStoreOptions {
  /** Herald's data directory (the default database lives there; a relative sqlite: path does not use it). */
  dataDir?: string;
  /** HERALD_ENCRYPTION_KEY, for endpoint secrets at rest. Accepted now, applied once secret encryption lands. */
  encryptionKey?: string | null;
}

/**
 * Opens and migrates the store a database URL names: `sqlite:PATH` (relative to the working
 * directory; the directory is created), `sqlite::memory:` (tests), or `postgres://…`.
 */
export async function openStore(databaseUrl: string, _options: OpenStoreOptions = {}): Promise<Store> {
  let store: Store;
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (path === '') throw new Error('sqlite: database URL needs a path (sqlite:PATH or sqlite::memory:)');
    if (path === ':memory:') {
      store = new SqliteStore(':memory:');
    } else {
      const file = resolve(path);
      mkdirSync(dirname(file), { recursive: true });
      store = new SqliteStore(file);
    }
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    store = new PostgresStore(databaseUrl);
  } else {
    throw new Error(
      `unsupported database URL scheme "${databaseUrl.split(':')[0]}" (use sqlite:PATH or postgres://…)`,
    );
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
