/**
 * A request repeating an idempotency key within its 24 h is answered 202 with the original event,
 * "whatever it sends this time", never 409 or 422 (docs/api.md "Idempotency keys"). A client that
 * retries after a lost answer sends the same request again; if the project has begun to enforce its
 * catalog meanwhile, the event type it sent is refused for new events, but this event was stored and
 * is being delivered: a 422 would tell the client it failed for good. Real HTTP on listen(0), on
 * SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { ADMIN, startApi } from './helpers.ts';

onBothStores((name: string, open: OpenStore) => {
  describe(`a retry after the project began to enforce its catalog (${name})`, () => {
    test('answers the stored event (202, idempotent-replayed); a new key is still 422', async () => {
      const { store, done } = await open();
      const api = await startApi({}, { store });
      try {
        const base = await api.app.listen({ port: 0, host: '127.0.0.1' });
        const call = async (
          method: string,
          path: string,
          body: unknown,
          headers: Record<string, string> = {},
        ) => {
          const r = await fetch(`${base}${path}`, {
            method,
            headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...headers },
            body: JSON.stringify(body),
          });
          return { status: r.status, replayed: r.headers.get('idempotent-replayed'), body: await r.json() };
        };
        const project = await api.project('catalog-later');
        const EV = `/api/v1/projects/${project.id}/events`;
        const event = { type: 'order.paid', payload: { order: 55120 } };
        const first = await call('POST', EV, event, { 'idempotency-key': 'order-55120' });
        assert.equal(first.status, 202, JSON.stringify(first.body));
        const batchFirst = await call('POST', `${EV}/batch`, {
          events: [{ ...event, idempotencyKey: 'order-55121' }],
        });
        assert.equal(batchFirst.status, 202, JSON.stringify(batchFirst.body));

        const patched = await call('PATCH', `/api/v1/projects/${project.id}`, { enforceCatalog: true });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));

        const again = await call('POST', EV, event, { 'idempotency-key': 'order-55120' });
        assert.equal(again.status, 202, JSON.stringify(again.body));
        assert.equal(again.replayed, 'true');
        assert.equal(again.body.id, first.body.id);
        const batchAgain = await call('POST', `${EV}/batch`, {
          events: [{ ...event, idempotencyKey: 'order-55121' }],
        });
        assert.equal(batchAgain.status, 202, JSON.stringify(batchAgain.body));
        assert.equal(batchAgain.body.data[0].id, batchFirst.body.data[0].id);

        // A new event of that type is refused, with a key or without, alone or beside a repeat.
        const fresh = await call('POST', EV, event, { 'idempotency-key': 'order-55122' });
        assert.equal(fresh.status, 422, JSON.stringify(fresh.body));
        assert.equal(fresh.body.error.details.field, 'body.type');
        const mixed = await call('POST', `${EV}/batch`, {
          events: [
            { ...event, idempotencyKey: 'order-55121' },
            { ...event, idempotencyKey: 'order-55123' },
          ],
        });
        assert.equal(mixed.status, 422, JSON.stringify(mixed.body));
        assert.equal(mixed.body.error.details.field, 'body.events.1.type');
        const list = await store.listEvents(project.id, { limit: 10 });
        assert.equal(list.data.length, 2, 'nothing new stored');
      } finally {
        await api.close();
        await done();
      }
    });
  });
});
