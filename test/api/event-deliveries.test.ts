/** GET …/events/:event/deliveries: what GET …/events/:event lists whole, a page at a time. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attemptRecord } from '../store/helpers.ts';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('events API: an event’s deliveries, a page at a time', () => {
  let api: TestApi;
  let p: Body;
  let event: Body;
  const P = () => `/api/v1/projects/${p.id}`;
  const D = () => `${P()}/events/${event.id}/deliveries`;

  /** Every page of `url` (a query string may follow), by nextCursor. */
  const pages = async (url: string): Promise<Body[][]> => {
    const out: Body[][] = [];
    let cursor: string | null = null;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const reply = await api.call('GET', cursor ? `${url}${sep}cursor=${cursor}` : url);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.deepEqual(Object.keys(reply.body).sort(), ['data', 'nextCursor']);
      out.push(reply.body.data);
      cursor = reply.body.nextCursor;
    } while (cursor !== null && out.length < 100);
    return out;
  };

  before(async () => {
    api = await startApi();
    p = await api.project('event-deliveries');
    for (let i = 0; i < 5; i++) {
      await api.call('POST', `${P()}/endpoints`, { url: `https://hooks.example/${i}` });
    }
    event = (
      await api.call('POST', `${P()}/events`, {
        type: 'order.created',
        payload: {},
        callbackUrl: 'https://callbacks.example/done',
      })
    ).body;
    assert.equal(event.deliveries.length, 6);
  });
  after(() => api.close());

  /** The event's deliveries as GET …/events/:event lists them. */
  const listed = async (): Promise<Body[]> =>
    (await api.call('GET', `${P()}/events/${event.id}`)).body.deliveries;

  test('the event says how many deliveries it has, in the list of events too, without them', async () => {
    assert.equal(event.deliveryCount, 6, 'accepted');
    assert.equal((await api.call('GET', `${P()}/events/${event.id}`)).body.deliveryCount, 6);
    const list = await api.call('GET', `${P()}/events`);
    const listed = list.body.data.find((e: Body) => e.id === event.id);
    assert.equal(listed.deliveryCount, 6);
    assert.equal(listed.deliveries, undefined);
  });

  test('?deliveries=false answers the event alone, as the list of events does; 404 and 400 as without it', async () => {
    const whole = (await api.call('GET', `${P()}/events/${event.id}`)).body;
    const alone = await api.call('GET', `${P()}/events/${event.id}?deliveries=false`);
    assert.equal(alone.status, 200);
    const { deliveries, ...rest } = whole;
    assert.equal(deliveries.length, 6);
    assert.deepEqual(alone.body, rest, 'the event without its deliveries, deliveryCount 6 included');
    assert.equal(alone.body.deliveryCount, 6);
    const listed = (await api.call('GET', `${P()}/events?limit=100`)).body.data.find(
      (e: Body) => e.id === event.id,
    );
    assert.deepEqual(alone.body, listed);
    assert.deepEqual((await api.call('GET', `${P()}/events/${event.id}?deliveries=true`)).body, whole);
    assertError(
      await api.call('GET', `${P()}/events/evt_missing?deliveries=false`),
      404,
      'HERALD_ERR_NOT_FOUND',
    );
    const other = await api.project('alone-other');
    const otherKey = await api.apiKey(other.id);
    assertError(
      await api.call('GET', `/api/v1/projects/${other.id}/events/${event.id}?deliveries=false`, undefined, {
        token: otherKey,
      }),
      404,
      'HERALD_ERR_NOT_FOUND',
    );
    const bad = assertError(
      await api.call('GET', `${P()}/events/${event.id}?deliveries=no`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.deliveries',
    );
    assert.equal(bad.message, 'querystring.deliveries: must be one of true, false');
    assertError(
      await api.call('GET', `${P()}/events/${event.id}?delivery=false`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.delivery',
    );
  });

  test('pages cover every delivery once, in the order and shape GET event lists them', async () => {
    const whole = await listed();
    const byTwo = await pages(`${D()}?limit=2`);
    assert.deepEqual(
      byTwo.map((page) => page.length),
      [2, 2, 2],
    );
    assert.deepEqual(byTwo.flat(), whole);
    const [one] = await pages(D());
    assert.deepEqual(one, whole, 'the default page (50) holds them all, and ends the list');
    // Another event of the project: its deliveries are never listed here.
    await api.call('POST', `${P()}/events`, { type: 'order.other', payload: {} });
    assert.deepEqual((await pages(`${D()}?limit=4`)).flat(), whole);
  });

  test('?status keeps the deliveries in that state, page by page', async () => {
    const now = Date.now();
    const claims = await api.store.claimDueDeliveries({ limit: 100, leaseMs: 60_000, now, workerId: 'w' });
    const ofEvent = claims.filter((c) => c.delivery.eventId === event.id);
    assert.equal(ofEvent.length, 6);
    const [done] = ofEvent;
    await api.store.recordAttempts(
      ofEvent.map((c) =>
        attemptRecord(c.delivery, c.event, {
          outcome: c === done ? 'succeeded' : 'failed',
          startedAt: now + 1,
          nextAttemptAt: now + 60_000,
          workerId: 'w',
        }),
      ),
      { now: now + 2, failureThreshold: 100 },
    );
    const whole = await listed();
    const succeeded = await pages(`${D()}?status=succeeded`);
    assert.deepEqual(succeeded, [whole.filter((d) => d.id === done!.delivery.id)]);
    assert.equal(succeeded[0]![0].status, 'succeeded');
    const pending = await pages(`${D()}?status=pending&limit=2`);
    assert.deepEqual(
      pending.map((page) => page.length),
      [2, 2, 1],
    );
    assert.deepEqual(
      pending.flat(),
      whole.filter((d) => d.status === 'pending'),
    );
    assert.deepEqual(await pages(`${D()}?status=parked`), [[]]);
  });

  test('404 for an event the project does not hold, another project’s the same as none', async () => {
    const missing = assertError(
      await api.call('GET', `${P()}/events/evt_missing/deliveries`),
      404,
      'HERALD_ERR_NOT_FOUND',
    );
    assert.equal(missing.message, 'event not found');
    const b = await api.project('other');
    const bKey = await api.apiKey(b.id);
    const onB = `/api/v1/projects/${b.id}/events/${event.id}/deliveries`;
    const asAbsent = assertError(
      await api.call('GET', onB, undefined, { token: bKey }),
      404,
      'HERALD_ERR_NOT_FOUND',
    );
    const trulyAbsent = assertError(
      await api.call('GET', `/api/v1/projects/${b.id}/events/evt_missing/deliveries`, undefined, {
        token: bKey,
      }),
      404,
    );
    assert.deepEqual(asAbsent, trulyAbsent, 'the same answer as for an id that exists nowhere');
    assertError(await api.call('GET', `${onB}?status=pending`), 404, 'HERALD_ERR_NOT_FOUND');
    // B's key on A's path: 404, as every route answers a key naming another project.
    assertError(await api.call('GET', D(), undefined, { token: bKey }), 404, 'HERALD_ERR_NOT_FOUND');
    // A's own key reads them; an event with no delivery is an empty page, not a 404.
    const aKey = await api.apiKey(p.id);
    assert.equal((await api.call('GET', D(), undefined, { token: aKey })).body.data.length, 6);
    const quiet = await api.call('POST', `/api/v1/projects/${b.id}/events`, {
      type: 'order.created',
      payload: {},
    });
    assert.deepEqual(
      (await api.call('GET', `/api/v1/projects/${b.id}/events/${quiet.body.id}/deliveries`)).body,
      { data: [], nextCursor: null },
    );
  });

  test('bad input is 400 naming the field: status, limit, cursor, an unknown parameter, the event id', async () => {
    const status = assertError(
      await api.call('GET', `${D()}?status=done`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.status',
    );
    assert.equal(status.message, 'querystring.status: must be one of pending, succeeded, failed, parked');
    for (const limit of ['0', '1001', 'x', '-1']) {
      assertError(
        await api.call('GET', `${D()}?limit=${limit}`),
        400,
        'HERALD_ERR_VALIDATION',
        'querystring.limit',
      );
    }
    // A cursor of another list (events: newest first, other ids) or none Herald made.
    const events = (await api.call('GET', `${P()}/events?limit=1`)).body;
    assert.ok(events.nextCursor);
    // An endpoint's waiting deliveries are in due order: its cursors name a dlv_ id too (with the
    // due time), but the place they stand for is not one in this list's id order.
    await api.call('POST', `${P()}/events`, { type: 'order.created', payload: {} });
    const endpoint = (await api.call('GET', `${P()}/endpoints?limit=1`)).body.data[0];
    const waiting = (await api.call('GET', `${P()}/endpoints/${endpoint.id}/deliveries?limit=1`)).body;
    assert.ok(waiting.nextCursor, 'the endpoint has more than one delivery waiting');
    for (const cursor of [events.nextCursor, waiting.nextCursor, 'bm90IGEgY3Vyc29y!', 'ZGx2']) {
      assertError(
        await api.call('GET', `${D()}?cursor=${encodeURIComponent(cursor)}`),
        400,
        'HERALD_ERR_VALIDATION',
        'querystring.cursor',
      );
    }
    assertError(
      await api.call('GET', `${D()}?stauts=failed`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.stauts',
    );
    assertError(
      await api.call('GET', `${P()}/events/%00/deliveries`),
      400,
      'HERALD_ERR_VALIDATION',
      'params.event',
    );
  });
});
