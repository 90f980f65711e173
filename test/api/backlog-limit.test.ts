/**
 * Intake backpressure (HERALD_PROJECT_BACKLOG_LIMIT, src/api/backlog-gate.ts): the real app on a
 * real SQLite store without a dispatcher, so every accepted delivery stays pending.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FULL_RECOUNT_MS } from '../../src/api/backlog-gate.ts';
import { createMetrics } from '../../src/metrics.ts';
import { assertError, startApi, type TestApi } from './helpers.ts';

const apis: TestApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function projectWithEndpoints(
  a: TestApi,
  name: string,
  endpoints: number,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const created = await a.call('POST', '/api/v1/projects', { name, ...fields });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const p = created.body as { id: string };
  for (let i = 0; i < endpoints; i++) {
    const r = await a.call('POST', `/api/v1/projects/${p.id}/endpoints`, {
      url: `https://hooks.example/${i}`,
    });
    assert.equal(r.status, 201);
  }
  return p.id;
}

const event = (i: number) => ({ type: 'player.joined', payload: { i } });
const pendingOf = (a: TestApi, projectId: string) => a.store.countPendingDeliveries(projectId, 1_000_000);

describe('project backlog limit', () => {
  test('a project at its limit gets 429 HERALD_ERR_BACKLOG_FULL with Retry-After, stores nothing, and other projects go on', async () => {
    const a = await startApi({ projectBacklogLimit: 6 });
    apis.push(a);
    const noisy = await projectWithEndpoints(a, 'noisy', 2);
    const quiet = await projectWithEndpoints(a, 'quiet', 2);

    // 2 deliveries per event: 6 pending after three events, and the gate knows it from its own accepts.
    for (let i = 0; i < 3; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${noisy}/events`, event(i))).status, 202);
    }
    assert.equal(await pendingOf(a, noisy), 6);
    const refused = await a.call('POST', `/api/v1/projects/${noisy}/events`, event(3));
    const error = assertError(refused, 429, 'HERALD_ERR_BACKLOG_FULL');
    assert.equal(refused.headers['retry-after'], '1');
    assert.deepEqual(error.details, { limit: 6, pending: 6, retryAfterSeconds: 1 });
    assert.match(String(error.message), /HERALD_PROJECT_BACKLOG_LIMIT/);
    const batch = await a.call('POST', `/api/v1/projects/${noisy}/events/batch`, {
      events: [event(4), event(5)],
    });
    assertError(batch, 429, 'HERALD_ERR_BACKLOG_FULL');
    // Nothing of the refused requests was stored.
    assert.equal((await a.store.listEvents(noisy, { limit: 100 })).data.length, 3);
    assert.equal(await pendingOf(a, noisy), 6);

    // Another project is not held back, and the rest of the API answers for the full one.
    assert.equal((await a.call('POST', `/api/v1/projects/${quiet}/events`, event(0))).status, 202);
    assert.equal((await a.call('GET', `/api/v1/projects/${noisy}/events`)).status, 200);

    // Counted for the whole process (every gate of it), read at scrape time.
    const text = await createMetrics({ store: a.store, processMetrics: false }).render();
    assert.match(text, /^herald_backlog_full_refusals_total [1-9]\d*$/m);
  });

  test('a repeat of accepted events (every idempotency key held) is answered while the project is full; anything new is not', async () => {
    const a = await startApi({ projectBacklogLimit: 4 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 2);
    const keyed = (i: number) => ({ ...event(i), idempotencyKey: `k${i}` });
    const first = await a.call('POST', `/api/v1/projects/${p}/events`, keyed(0));
    assert.equal(first.status, 202);
    const batch = await a.call('POST', `/api/v1/projects/${p}/events/batch`, { events: [keyed(1)] });
    assert.equal(batch.status, 202);
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, keyed(2)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );

    // A client retrying after a lost answer gets the original, by field or header, single or batch.
    const again = await a.call('POST', `/api/v1/projects/${p}/events`, keyed(0));
    assert.equal(again.status, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal((again.body as { id: string }).id, (first.body as { id: string }).id);
    const byHeader = await a.call('POST', `/api/v1/projects/${p}/events`, event(0), {
      headers: { 'idempotency-key': 'k0' },
    });
    assert.equal(byHeader.status, 202);
    const batchAgain = await a.call('POST', `/api/v1/projects/${p}/events/batch`, {
      events: [keyed(1), keyed(0), keyed(1)],
    });
    assert.equal(batchAgain.status, 202);
    // A batch with one new event, or one without a key, is refused whole.
    for (const events of [
      [keyed(0), keyed(3)],
      [keyed(0), event(4)],
    ]) {
      assertError(
        await a.call('POST', `/api/v1/projects/${p}/events/batch`, { events }),
        429,
        'HERALD_ERR_BACKLOG_FULL',
      );
    }
    assert.equal((await a.store.listEvents(p, { limit: 100 })).data.length, 2, 'nothing created');
    assert.equal(await pendingOf(a, p), 4);
  });

  test('a repeat answered while full is not counted as a refusal; a limit lowered from none applies to the next request', async () => {
    const a = await startApi({ projectBacklogLimit: null });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 2);
    const refusals = async () =>
      Number(
        /^herald_backlog_full_refusals_total (\d+)$/m.exec(
          await createMetrics({ store: a.store, processMetrics: false }).render(),
        )?.[1],
      );
    // No limit: 6 pending, never counted.
    for (let i = 0; i < 3; i++) {
      const r = await a.call('POST', `/api/v1/projects/${p}/events`, {
        ...event(i),
        idempotencyKey: `k${i}`,
      });
      assert.equal(r.status, 202);
    }
    assert.equal((await a.call('PATCH', `/api/v1/projects/${p}`, { backlogLimit: 4 })).status, 200);
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(9)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    const before = await refusals();
    const again = await a.call('POST', `/api/v1/projects/${p}/events`, { ...event(0), idempotencyKey: 'k0' });
    assert.equal(again.status, 202);
    assert.equal(await refusals(), before, 'a repeat answered is not a refusal');
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(10)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    assert.equal(await refusals(), before + 1);
  });

  test('once deliveries leave the backlog, events are accepted again after the next count', async () => {
    const a = await startApi({ projectBacklogLimit: 4 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 2);
    for (let i = 0; i < 2; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(i))).status, 202);
    }
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(2)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    // Deleting an endpoint ends its deliveries: 2 pending left.
    const endpoints = (await a.call('GET', `/api/v1/projects/${p}/endpoints`)).body as {
      data: { id: string }[];
    };
    assert.equal(
      (await a.call('DELETE', `/api/v1/projects/${p}/endpoints/${endpoints.data[0]!.id}`)).status,
      204,
    );
    assert.equal(await pendingOf(a, p), 2);
    await new Promise((resolve) => setTimeout(resolve, FULL_RECOUNT_MS + 50));
    assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(3))).status, 202);
  });

  test("test sends and replays create deliveries too: a full project's are refused, and what they create counts", async () => {
    const a = await startApi({ projectBacklogLimit: 3 });
    apis.push(a);
    assert.equal(
      (await a.call('PUT', '/api/v1/event-types/player.joined', { example: { i: 0 } })).status,
      200,
    );
    const p = await projectWithEndpoints(a, 'p', 1);
    const key = await a.apiKey(p);
    const [hook] = (await a.store.listEndpoints(p, { limit: 10, cursor: null })).data;
    const lever = (path: string, body?: unknown) =>
      a.call('POST', `/api/v1/projects/${p}/endpoints/${hook!.id}/${path}`, body, { token: key });
    // Process-wide (every gate of the process together): read before and after.
    const refusals = async () =>
      Number(
        /^herald_backlog_full_refusals_total (\d+)$/m.exec(
          await createMetrics({ store: a.store, processMetrics: false }).render(),
        )?.[1],
      );
    const refusedBefore = await refusals();
    for (let i = 0; i < 2; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(i))).status, 202);
    }
    // Under the limit a test send goes out, and the gate counts its delivery with the rest: the
    // next event finds the project full (3 pending) rather than taking it to 4.
    assert.equal((await lever('test')).status, 202);
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(2)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    assert.equal(await pendingOf(a, p), 3);

    // Full: a test send in a loop (a receiver that answers 429 keeps each one pending for a day)
    // would pile up deliveries past the limit without end; so would a replay to new endpoints.
    for (let i = 0; i < 3; i++) {
      const refused = assertError(await lever('test'), 429, 'HERALD_ERR_BACKLOG_FULL');
      assert.equal(refused.details.limit, 3);
    }
    const fresh = await a.call(
      'POST',
      `/api/v1/projects/${p}/endpoints`,
      { url: 'https://hooks.example/late' },
      { token: key },
    );
    assert.equal(fresh.status, 201);
    const replay = await a.call(
      'POST',
      `/api/v1/projects/${p}/endpoints/${fresh.body.id}/replay`,
      { since: 0 },
      { token: key },
    );
    assertError(replay, 429, 'HERALD_ERR_BACKLOG_FULL');
    assert.equal(await pendingOf(a, p), 3, 'nothing of the refused levers was stored');
    assert.equal((await a.store.listEvents(p, { limit: 100 })).data.length, 3);
    // herald_backlog_full_refusals_total counts them all: the event, the 3 test sends, the replay.
    assert.equal((await refusals()) - refusedBefore, 5);
  });

  test('a replay under the limit counts what it created', async () => {
    const a = await startApi({ projectBacklogLimit: 4 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 1);
    for (let i = 0; i < 2; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(i))).status, 202);
    }
    const late = await a.call('POST', `/api/v1/projects/${p}/endpoints`, {
      url: 'https://hooks.example/late',
    });
    const replay = await a.call('POST', `/api/v1/projects/${p}/endpoints/${late.body.id}/replay`, {
      since: 0,
    });
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.equal(replay.body.replayed, 2);
    // 4 pending: the gate knows it from the replay, without a count.
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(2)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    assert.equal(await pendingOf(a, p), 4);
  });

  test('parked deliveries do not count; 0 turns the limit off', async () => {
    const a = await startApi({ projectBacklogLimit: 2 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 1);
    const endpoints = (await a.call('GET', `/api/v1/projects/${p}/endpoints`)).body as {
      data: { id: string }[];
    };
    const hook = endpoints.data[0]!.id;
    for (let i = 0; i < 2; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(i))).status, 202);
    }
    assert.equal(
      (await a.call('PATCH', `/api/v1/projects/${p}/endpoints/${hook}`, { active: false })).status,
      200,
    );
    assert.equal(await pendingOf(a, p), 0, 'the disable parked them');
    await new Promise((resolve) => setTimeout(resolve, FULL_RECOUNT_MS + 50));
    assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(2))).status, 202);

    const off = await startApi({ projectBacklogLimit: null });
    apis.push(off);
    const q = await projectWithEndpoints(off, 'q', 1);
    for (let i = 0; i < 5; i++) {
      assert.equal((await off.call('POST', `/api/v1/projects/${q}/events`, event(i))).status, 202);
    }
  });

  test("a project's own backlogLimit (admin only) replaces the installation's for it: lower refuses it while another goes on, 0 turns it off, null gives the default back", async () => {
    const a = await startApi({ projectBacklogLimit: 6 });
    apis.push(a);
    const small = await projectWithEndpoints(a, 'small', 2, { backlogLimit: 2 });
    const big = await projectWithEndpoints(a, 'big', 2);
    const send = (p: string, i: number) => a.call('POST', `/api/v1/projects/${p}/events`, event(i));

    assert.equal((await a.call('GET', `/api/v1/projects/${small}`)).body.backlogLimit, 2);
    assert.equal((await a.call('GET', `/api/v1/projects/${big}`)).body.backlogLimit, null);
    // 2 deliveries per event: full at its own limit after one event.
    assert.equal((await send(small, 0)).status, 202);
    const error = assertError(await send(small, 1), 429, 'HERALD_ERR_BACKLOG_FULL');
    assert.deepEqual(error.details, { limit: 2, pending: 2, retryAfterSeconds: 1 });
    assert.match(String(error.message), /backlogLimit/);
    // The other project has the installation's 6.
    for (let i = 0; i < 3; i++) assert.equal((await send(big, i)).status, 202);
    assertError(await send(big, 3), 429, 'HERALD_ERR_BACKLOG_FULL');

    // Changed by PATCH: applies at the next request, whichever way.
    const raised = await a.call('PATCH', `/api/v1/projects/${small}`, { backlogLimit: 4 });
    assert.equal(raised.status, 200);
    assert.equal(raised.body.backlogLimit, 4);
    assert.equal((await send(small, 2)).status, 202, 'raised: room again at once, no recount wait');
    assertError(await send(small, 3), 429, 'HERALD_ERR_BACKLOG_FULL');
    // 0: no limit for this project, while the installation's stays for the other.
    assert.equal(
      (await a.call('PATCH', `/api/v1/projects/${small}`, { backlogLimit: 0 })).body.backlogLimit,
      0,
    );
    for (let i = 4; i < 8; i++) assert.equal((await send(small, i)).status, 202);
    assertError(await send(big, 4), 429, 'HERALD_ERR_BACKLOG_FULL');
    // A big tenant given more than the installation's.
    assert.equal((await a.call('PATCH', `/api/v1/projects/${big}`, { backlogLimit: 10 })).status, 200);
    assert.equal((await send(big, 5)).status, 202);
    // null: the installation's limit again (12 pending, past its 6).
    assert.equal(
      (await a.call('PATCH', `/api/v1/projects/${small}`, { backlogLimit: null })).body.backlogLimit,
      null,
    );
    const back = assertError(await send(small, 8), 429, 'HERALD_ERR_BACKLOG_FULL');
    assert.equal(back.details.limit, 6);
    assert.match(String(back.message), /HERALD_PROJECT_BACKLOG_LIMIT/);
  });

  test('a project with its own backlogLimit is held to it where the installation has none (HERALD_PROJECT_BACKLOG_LIMIT=0)', async () => {
    const a = await startApi({ projectBacklogLimit: null });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 1, { backlogLimit: 1 });
    const q = await projectWithEndpoints(a, 'q', 1);
    assert.equal((await a.call('POST', `/api/v1/projects/${p}/events`, event(0))).status, 202);
    assertError(
      await a.call('POST', `/api/v1/projects/${p}/events`, event(1)),
      429,
      'HERALD_ERR_BACKLOG_FULL',
    );
    for (let i = 0; i < 3; i++) {
      assert.equal((await a.call('POST', `/api/v1/projects/${q}/events`, event(i))).status, 202);
    }
  });

  test('only the admin token sets backlogLimit: a project key gets 403 naming body.backlogLimit, a portal link 403; the key still reads it', async () => {
    const a = await startApi({ projectBacklogLimit: 6 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 0, { backlogLimit: 3 });
    const key = await a.apiKey(p);
    for (const backlogLimit of [100, null, 0]) {
      const refused = await a.call(
        'PATCH',
        `/api/v1/projects/${p}`,
        { name: 'renamed', backlogLimit },
        { token: key },
      );
      const error = assertError(refused, 403, 'HERALD_ERR_FORBIDDEN');
      assert.match(String(error.message), /body\.backlogLimit/);
    }
    const read = await a.call('GET', `/api/v1/projects/${p}`, undefined, { token: key });
    assert.equal(read.status, 200);
    assert.equal(read.body.backlogLimit, 3);
    assert.equal(read.body.name, 'p', 'nothing of the refused PATCH was applied');
    // The rest of the PATCH is the key's to make.
    const renamed = await a.call('PATCH', `/api/v1/projects/${p}`, { name: 'renamed' }, { token: key });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.backlogLimit, 3);
    assertError(
      await a.call('POST', '/api/v1/projects', { name: 'mine', backlogLimit: 1 }, { token: key }),
      403,
      'HERALD_ERR_FORBIDDEN',
    );
    const link = await a.call('POST', `/api/v1/projects/${p}/portal-links`, { expiresIn: 600 });
    assert.equal(link.status, 201);
    assertError(
      await a.call('PATCH', `/api/v1/projects/${p}`, { backlogLimit: 100 }, { token: link.body.token }),
      403,
      'HERALD_ERR_FORBIDDEN',
    );
    assert.equal((await a.store.getProject(p))?.backlogLimit, 3);
  });

  test('backlogLimit is an integer from 0 to 1,000,000,000 or null: anything else is 400 naming body.backlogLimit', async () => {
    const a = await startApi({ projectBacklogLimit: 6 });
    apis.push(a);
    const p = await projectWithEndpoints(a, 'p', 0);
    for (const backlogLimit of [-1, 1.5, 'x', 2e9, 1_000_000_001, true, [1], '5']) {
      assertError(
        await a.call('PATCH', `/api/v1/projects/${p}`, { backlogLimit }),
        400,
        'HERALD_ERR_VALIDATION',
        'body.backlogLimit',
      );
      assertError(
        await a.call('POST', '/api/v1/projects', { name: 'n', backlogLimit }),
        400,
        'HERALD_ERR_VALIDATION',
        'body.backlogLimit',
      );
    }
    const max = await a.call('PATCH', `/api/v1/projects/${p}`, { backlogLimit: 1_000_000_000 });
    assert.equal(max.status, 200);
    assert.equal(max.body.backlogLimit, 1_000_000_000);
  });
});
