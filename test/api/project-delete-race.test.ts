/**
 * A write keyed by a project that loses a race with the project's delete: the route found the
 * project, the delete went through, then the write reached the store (a foreign key violation:
 * SQLite's "FOREIGN KEY constraint failed", PostgreSQL's 23503). The answer is the 404 a request
 * sent after the delete gets, never a 500. Real server on listen(0); SQLite on disk and PostgreSQL.
 * The race is made certain: the store deletes the project just before the write.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Store } from '../../src/store/store.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';

const ADMIN = 'delete-race-admin-token-0123456789abcdef';

/** `store`, whose write `method` first deletes the project it is given (by `projectOf` its arguments). */
function deletingFirst(store: Store, method: keyof Store, projectOf: (args: unknown[]) => string): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      if (name !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        assert.equal(await target.deleteProject(projectOf(args)), true);
        return value.apply(target, args);
      };
    },
  });
}

const CASES: {
  what: string;
  method: keyof Store;
  projectOf: (args: unknown[]) => string;
  path: (projectId: string) => string;
  body: unknown;
  /** POST unless given. */
  verb?: string;
}[] = [
  {
    what: 'an event',
    method: 'acceptEvents',
    projectOf: (a) => a[0] as string,
    path: (p) => `/api/v1/projects/${p}/events`,
    body: { type: 'a.b', payload: {} },
  },
  {
    what: 'a batch of events',
    method: 'acceptEvents',
    projectOf: (a) => a[0] as string,
    path: (p) => `/api/v1/projects/${p}/events/batch`,
    body: { events: [{ type: 'a.b', payload: {} }] },
  },
  {
    what: 'an endpoint',
    method: 'createEndpoint',
    projectOf: (a) => (a[0] as { projectId: string }).projectId,
    path: (p) => `/api/v1/projects/${p}/endpoints`,
    body: { url: 'http://127.0.0.1:9/hook' },
  },
  {
    what: 'an API key',
    method: 'createApiKey',
    projectOf: (a) => (a[0] as { projectId: string }).projectId,
    path: (p) => `/api/v1/projects/${p}/api-keys`,
    body: { name: 'k' },
  },
  {
    what: "a project's settings",
    method: 'updateProject',
    projectOf: (a) => a[0] as string,
    path: (p) => `/api/v1/projects/${p}`,
    body: { name: 'renamed' },
    verb: 'PATCH',
  },
];

async function post(base: string, path: string, body: unknown, method = 'POST') {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } };
}

function suite(name: string, open: OpenStore) {
  describe(`a write racing its project's delete (${name})`, () => {
    for (const c of CASES) {
      test(`${c.what}: 404 HERALD_ERR_NOT_FOUND for the project, not 500`, async () => {
        const { store, done } = await open();
        const app = buildApp({
          store: deletingFirst(store, c.method, c.projectOf),
          config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } }),
        });
        try {
          await app.listen({ port: 0, host: '127.0.0.1' });
          const { port } = app.server.address() as { port: number };
          const base = `http://127.0.0.1:${port}`;
          const project = (await post(base, '/api/v1/projects', { name: 'doomed' })).body as { id: string };
          const r = await post(base, c.path(project.id), c.body, c.verb);
          assert.equal(r.status, 404, JSON.stringify(r.body));
          assert.equal(r.body.error?.code, 'HERALD_ERR_NOT_FOUND');
          assert.equal(r.body.error?.message, 'project not found');
          assert.equal(await store.getProject(project.id), null);
          // Nothing of the request stayed behind (PostgreSQL's events have no foreign key).
          assert.deepEqual((await store.listEvents(project.id, { limit: 10, cursor: null })).data, []);
        } finally {
          closeAnsweredConnections(app.server);
          await app.close();
          await done();
        }
      });
    }
  });
}

const postgres = onBothStores(suite);

describe("PostgreSQL: an accept in flight during the project's delete", () => {
  test('the delete waits for it and removes its events (none left behind)', async () => {
    const url = await postgres().createDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const project = await store.createProject({ name: 'doomed' }, Date.now());
      // What an accept batch does (accept-batch.ts): the project row held FOR KEY SHARE, an event
      // inserted, not yet committed.
      await client.query('BEGIN');
      await client.query('SELECT id FROM projects WHERE id = $1 FOR KEY SHARE', [project.id]);
      await client.query(
        `INSERT INTO events (project_id, id, type, payload, test, created_at) VALUES ($1, 'evt_inflight', 'a', '{}', false, $2)`,
        [project.id, Date.now()],
      );
      let deleted = false;
      const deleting = store.deleteProject(project.id).then((r) => {
        deleted = r;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(deleted, false, 'the delete waits for the batch that holds the project');
      await client.query('COMMIT');
      await deleting;
      assert.equal(deleted, true);
      const left = await client.query('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [
        project.id,
      ]);
      assert.equal(left.rows[0].n, 0);
    } finally {
      await client.end();
      await store.close();
    }
  });
});
