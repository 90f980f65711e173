/** The dispatcher's cache of projects' retry schedules, on a real SQLite store. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createProjectSchedules, PROJECT_SCHEDULE_TTL_MS } from '../../src/delivery/project-schedules.ts';
import { openStore } from '../../src/store/open-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-schedules-'));
const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a project's schedule is read once per TTL, and a change shows after it", async () => {
  const project = await store.createProject({ name: 'p', retrySchedule: [1, 2] }, Date.now());
  let now = 1_000_000;
  let reads = 0;
  const counting = {
    getProject: (id: string) => {
      reads++;
      return store.getProject(id);
    },
  };
  const schedules = createProjectSchedules(counting, () => now);
  assert.deepEqual(await schedules(project.id), [1, 2]);
  await store.updateProject(project.id, { retrySchedule: [9] }, Date.now());
  now += PROJECT_SCHEDULE_TTL_MS - 1;
  assert.deepEqual(await schedules(project.id), [1, 2], 'still the cached one');
  assert.equal(reads, 1);
  now += 1;
  assert.deepEqual(await schedules(project.id), [9]);
  assert.equal(reads, 2);
  assert.equal(await schedules('prj_missing'), null, 'a project that is gone has none');
});
