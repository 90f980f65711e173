/**
 * An endpoint DELETE removes the endpoint in its first write and closes its backlog a batch per
 * write after it. A stop in between (SIGTERM: the server's close, with no grace left for the
 * request) leaves the rest: a disabled endpoint's parked deliveries stayed parked for good (their
 * events kept from retention) until someone repeated the DELETE. A restart closes them, and sends
 * nothing to the deleted endpoints. Herald started in this process (startHerald), a receiver on
 * listen(0), SQLite on disk and PostgreSQL.
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
import { parkBatch } from '../../src/store/park-batch.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { api, startReceiver } from './harness.ts';

const ADMIN = 'delete-stop-admin-token-0123456789abcdef';
const EVENTS = 2_000;

const call = <T = { id: string }>(base: string, method: string, path: string, body?: unknown) =>
  api<T>(base, ADMIN, method, `/api/v1${path}`, body);

/** Each endpoint's pending and parked deliveries, read by a store of its own while no Herald runs. */
async function backlogs(url: string, projectId: string, endpointIds: string[]) {
  const store = await openStore(url);
  try {
    return await Promise.all(endpointIds.map((id) => store.countEndpointBacklog(projectId, id, 1_000_000)));
  } finally {
    await store.close();
  }
}

function suite(name: string, open: OpenStore) {
  describe(`${name}: an endpoint delete cut short by a stop`, () => {
    test('the restart closes the pending and parked deliveries it left, and sends none of them', async () => {
      const { store, url, done } = await open();
      await store.close(); // Herald opens the database itself
      const dataDir = mkdtempSync(join(tmpdir(), 'herald-delete-stop-'));
      const receiver = await startReceiver();
      const hook = `${receiver.url}/hook`;
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
      const batchRows = parkBatch.rows;
      try {
        // No dispatcher: every delivery stays pending until the endpoints are deleted.
        const first = await startHerald(config('api'), { logger: createLogger({ level: 'silent' }) });
        const project = (await call(first.url, 'POST', '/projects', { name: 'p' })).body;
        const ep = `/projects/${project.id}/endpoints`;
        const parked = (await call(first.url, 'POST', ep, { url: hook })).body;
        const pending = (await call(first.url, 'POST', ep, { url: hook })).body;
        const eventIds: string[] = [];
        for (let i = 0; i < EVENTS; i += 1_000) {
          const events = Array.from({ length: 1_000 }, (_, j) => ({ type: 'a.b', payload: { n: i + j } }));
          const accepted = await call<{ data: { id: string }[] }>(
            first.url,
            'POST',
            `/projects/${project.id}/events/batch`,
            { events },
          );
          assert.equal(accepted.status, 202);
          eventIds.push(...accepted.body.data.map((e) => e.id));
        }
        parkBatch.rows = EVENTS; // the disable parks them all in its own write
        assert.equal((await call(first.url, 'PATCH', `${ep}/${parked.id}`, { active: false })).status, 200);

        // Small batches: each delete takes hundreds of writes, and the stop comes after the first.
        parkBatch.rows = 5;
        const deletes = [parked, pending].map((e) =>
          fetch(`${first.url}/api/v1${ep}/${e.id}`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${ADMIN}` },
          }).then(
            (r) => r.status,
            () => 'cut',
          ),
        );
        for (const e of [parked, pending]) {
          while ((await call(first.url, 'GET', `${ep}/${e.id}`)).status !== 404) await sleep(1);
        }
        await first.close({ graceMs: 0 });
        await Promise.all(deletes);
        parkBatch.rows = batchRows;
        const [leftParked, leftPending] = await backlogs(url, project.id, [parked.id, pending.id]);
        assert.ok(
          leftParked!.parked > 0,
          `the stop came after the delete of the disabled endpoint ended (${JSON.stringify(leftParked)})`,
        );
        assert.equal(leftParked!.pending, 0);
        assert.equal(leftPending!.parked, 0);

        const { logger, lines } = capturedLogger();
        const second = await startHerald(config('all'), { logger });
        try {
          const said = (line: Record<string, unknown>) =>
            /^closed the pending and parked deliveries of \d+ deleted endpoints? whose delete was cut short by a stop$/.test(
              String(line.msg),
            );
          // The line comes once the start's sweep is done (it is not awaited by the start).
          for (let waited = 0; !lines.some(said) && waited < 10_000; waited += 20) await sleep(20);
          // What the customer sees: every delivery of the event ended, none parked for good.
          for (const id of [eventIds[0], eventIds[EVENTS / 2], eventIds[EVENTS - 1]]) {
            const event = await call<{ deliveries: { status: string }[] }>(
              second.url,
              'GET',
              `/projects/${project.id}/events/${id}`,
            );
            assert.deepEqual(
              event.body.deliveries.map((d) => d.status),
              ['failed', 'failed'],
            );
          }
          assert.ok(lines.some(said), 'the restart says it closed what the stopped delete left');
          await sleep(300); // the dispatcher's first claims
        } finally {
          await second.close({ graceMs: 0 });
        }
        assert.deepEqual(await backlogs(url, project.id, [parked.id, pending.id]), [
          { pending: 0, parked: 0 },
          { pending: 0, parked: 0 },
        ]);
        assert.equal(receiver.requests.length, 0, 'nothing was sent to the deleted endpoints');
      } finally {
        parkBatch.rows = batchRows;
        await receiver.close();
        rmSync(dataDir, { recursive: true, force: true });
        await done();
      }
    });
  });
}

onBothStores(suite);
