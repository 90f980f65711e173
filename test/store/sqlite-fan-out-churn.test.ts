/**
 * SQLite's fan-out cache (src/store/fan-out-cache.ts) under churn: projects created, sent to and
 * deleted, as customers do for weeks, leave nothing of theirs in it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-fan-out-churn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a deleted project's fan-out list is dropped with it: 50 projects created, sent to and deleted leave none", async () => {
  const store = (await openStore(`sqlite:${join(dir, 'herald.db')}`)) as SqliteStore;
  try {
    const kept = await projectWithEndpoints(store, 2);
    await store.acceptEvents(kept.project.id, [eventInput()], T0);
    assert.equal(store.fanOutHeld, 2);
    for (let i = 0; i < 50; i++) {
      const { project } = await projectWithEndpoints(store, 3);
      await store.acceptEvents(project.id, [eventInput()], T0);
      assert.equal(store.fanOutHeld, 5, 'the project being sent to, and the one kept');
      assert.equal(await store.deleteProject(project.id), true);
    }
    assert.equal(store.fanOutHeld, 2, "only the live project's list is held");
  } finally {
    await store.close();
  }
});

test("a deleted endpoint's URL leaves the fan-out cache with it: the project's list is dropped, not kept until its next accept", async () => {
  const store = (await openStore(`sqlite:${join(dir, 'endpoint-delete.db')}`)) as SqliteStore;
  try {
    const kept = await projectWithEndpoints(store, 2);
    await store.acceptEvents(kept.project.id, [eventInput()], T0);
    const { project, endpoints } = await projectWithEndpoints(store, 3);
    const [first, ...rest] = endpoints;
    assert.ok(first);
    await store.acceptEvents(project.id, [eventInput()], T0);
    assert.equal(store.fanOutHeld, 5);
    assert.equal(await store.deleteEndpoint(project.id, first.id, T0), true);
    assert.equal(store.fanOutHeld, 2, "the project's list, with the deleted endpoint's URL, is dropped");
    await store.acceptEvents(project.id, [eventInput()], T0);
    assert.equal(store.fanOutHeld, 4, 'loaded again at its next accept, without the deleted endpoint');
    for (const endpoint of rest) await store.deleteEndpoint(project.id, endpoint.id, T0);
    assert.equal(store.fanOutHeld, 2, "only the other project's list is held");
  } finally {
    await store.close();
  }
});
