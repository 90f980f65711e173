/**
 * The decrypted secrets in the dispatcher's cache of endpoint views (src/store/dispatch-cache.ts)
 * do not outlive their endpoint for long. The dispatcher runs on a thread of its own with its own
 * store, and is not told of the API thread's deletes: its cache kept a deleted endpoint's (or a
 * deleted project's) secrets until 10,000 other endpoints pushed them out. Two stores on one file
 * here are those two threads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { until } from '../support/wait-until.ts';
import { HOUR, projectWithEndpoints, T0 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-dispatch-cache-age-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MAX_AGE_MS = 300;
const SWEEP_MS = 50;

test("a deleted endpoint's or project's decrypted secrets leave the other thread's dispatcher cache within its maximum age", async () => {
  const file = join(dir, 'herald.db');
  const api = await openStore(`sqlite:${file}`);
  const dispatcher = new SqliteStore(file, undefined, {
    dispatchCache: { maxAgeMs: MAX_AGE_MS, sweepMs: SWEEP_MS },
  });
  try {
    const { project, endpoints } = await projectWithEndpoints(api, 2);
    const other = await projectWithEndpoints(api, 1);
    const kept = other.endpoints[0]!;
    await api.rotateEndpointSecret(other.project.id, kept.id, 'whsec_next', HOUR, T0);
    const refs = [
      ...endpoints.map((e) => ({ projectId: project.id, endpointId: e.id })),
      { projectId: other.project.id, endpointId: kept.id },
    ];
    const read = await dispatcher.getDispatchEndpoints(refs, T0);
    assert.equal(read.size, 3);
    assert.equal(dispatcher.dispatchHeld, 3);

    // Deleted through the API's store: this store is not told.
    assert.equal(await api.deleteEndpoint(project.id, endpoints[0]!.id, T0), true);
    assert.equal(await api.deleteProject(project.id), true);
    // Within MAX_AGE_MS + SWEEP_MS; a loaded machine's timers run late, hence the margin.
    await until('the cache to drop every view', () => dispatcher.dispatchHeld === 0, 5_000);

    // An endpoint still sent to is read again, and cached again, on its next claim: its rotated
    // secret's grace over, only the new secret is held.
    const again = await dispatcher.getDispatchEndpoints(refs, T0 + HOUR);
    assert.deepEqual([...again.keys()], [kept.id]);
    assert.deepEqual(
      again.get(kept.id)!.secrets.map((s) => s.secret),
      ['whsec_next'],
    );
    assert.equal(dispatcher.dispatchHeld, 1);
  } finally {
    await dispatcher.close();
    await api.close();
  }
});

test("a delete through the dispatcher's own store (sqlite::memory:'s one thread) drops the views at once", async () => {
  const store = (await openStore('sqlite::memory:')) as SqliteStore;
  try {
    const { project, endpoints } = await projectWithEndpoints(store, 3);
    const refs = endpoints.map((e) => ({ projectId: project.id, endpointId: e.id }));
    await store.getDispatchEndpoints(refs, T0);
    assert.equal(store.dispatchHeld, 3);
    await store.deleteEndpoint(project.id, endpoints[0]!.id, T0);
    assert.equal(store.dispatchHeld, 2);
    await store.deleteProject(project.id);
    assert.equal(store.dispatchHeld, 0);
  } finally {
    await store.close();
  }
});
