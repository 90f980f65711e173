/**
 * A project DELETE removes its keys and endpoints in its first write, then closes its callbacks and
 * deletes its history in steps, then the project. A stop in between left the project listed and
 * readable, its history partly there, until someone repeated the DELETE. Now it is neither found
 * nor listed from the first write on, and the next start finishes the delete, sending none of its
 * callbacks. Herald started in this process (startHerald), a receiver on listen(0), SQLite on disk
 * and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/main.ts';
import { openStore } from '../../src/store/open-store.ts';
import { projectDeleteSteps } from '../../src/store/project-delete-steps.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { api, startReceiver } from './harness.ts';

const ADMIN = 'project-delete-stop-admin-token-0123456789';

const call = <T = { id: string }>(base: string, method: string, path: string, body?: unknown) =>
  api<T>(base, ADMIN, method, `/api/v1${path}`, body);

function suite(name: string, open: OpenStore) {
  describe(`${name}: a project delete cut short by a stop`, () => {
    test('the project answers 404 and is not listed, and the restart finishes the delete, sending none of its callbacks', async () => {
      const { store, url, done } = await open();
      await store.close(); // Herald opens the database itself
      const dataDir = mkdtempSync(join(tmpdir(), 'herald-project-delete-stop-'));
      const receiver = await startReceiver();
      const config = (role: string) =>
        loadConfig({
          env: {
            HERALD_DATABASE_URL: url,
            HERALD_DATA_DIR: dataDir,
            HERALD_ADMIN_TOKEN: ADMIN,
            HERALD_ROLE: role,
            HERALD_PORT: '0',
            HERALD_HOST: '127.0.0.1',
            HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
          },
        });
      try {
        // No dispatcher: the callbacks stay pending.
        const first = await startHerald(config('api'), { logger: createLogger({ level: 'silent' }) });
        const project = (await call(first.url, 'POST', '/projects', { name: 'p', uid: 'space-raiders' }))
          .body;
        const events = Array.from({ length: 3 }, (_, n) => ({
          type: 'a.b',
          payload: { n },
          callbackUrl: `${receiver.url}/cb`,
        }));
        const accepted = await call(first.url, 'POST', `/projects/${project.id}/events/batch`, { events });
        assert.equal(accepted.status, 202);
        // The stop comes after the first step of its history.
        projectDeleteSteps.committed = (table) => {
          if (table !== 'callbacks') throw new Error('stopped');
        };
        try {
          assert.equal((await call(first.url, 'DELETE', `/projects/${project.id}`)).status, 500);
        } finally {
          projectDeleteSteps.committed = null;
        }
        assert.equal((await call(first.url, 'GET', `/projects/${project.id}`)).status, 404);
        assert.equal((await call(first.url, 'GET', '/projects/space-raiders')).status, 404);
        assert.equal((await call(first.url, 'GET', `/projects/${project.id}/events`)).status, 404);
        const listed = await call<{ data: { id: string }[] }>(first.url, 'GET', '/projects');
        assert.deepEqual(listed.body.data, []);
        await first.close({ graceMs: 0 });

        const { logger, lines } = capturedLogger();
        const second = await startHerald(config('all'), { logger });
        try {
          const said = (line: Record<string, unknown>) =>
            line.msg === 'finished the delete of 1 project whose delete was cut short by a stop';
          // The line comes once the start's look is done (it is not awaited by the start).
          for (let waited = 0; !lines.some(said) && waited < 10_000; waited += 20) await sleep(20);
          assert.ok(lines.some(said), 'the restart says it finished the delete');
          await sleep(300); // the dispatcher's first claims
        } finally {
          await second.close({ graceMs: 0 });
        }
        const check = await openStore(url);
        try {
          assert.equal(await check.deleteProject(project.id), false, 'the project row is gone');
          assert.equal(await check.finishProjectDeletes(), 0);
        } finally {
          await check.close();
        }
        assert.equal(receiver.requests.length, 0, 'none of its callbacks was sent');
      } finally {
        projectDeleteSteps.committed = null;
        await receiver.close();
        rmSync(dataDir, { recursive: true, force: true });
        await done();
      }
    });
  });
}

onBothStores(suite);
