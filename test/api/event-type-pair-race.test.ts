/**
 * A PUT of an event type's schema and a PUT of its example sent at once: each was checked, off the
 * request thread, against the other field's old value, and both were stored, a pair that does not
 * match (docs/api.md says it cannot). Real server on listen(0), SQLite on disk and PostgreSQL; the
 * other PUT is made certain to land in the window: the store sends it, over HTTP, and waits for
 * its answer, just before the write it would otherwise race. `herald event-types import` writes such
 * an entry the same way (storeCatalog): another writer stores an example just before its write.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { EVENT_TYPE_PUT_ATTEMPTS } from '../../src/api/event-type-checked-write.ts';
import { storeCatalog } from '../../src/cli/commands/event-types-catalog.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { Store } from '../../src/store/store.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';

const ADMIN = 'pair-race-admin-token-0123456789abcdef';
type Answer = {
  status: number;
  body: Record<string, unknown> & { error?: { details?: { field?: string } } };
};

function suite(name: string, open: OpenStore) {
  describe(`an event type's schema and example PUT at once (${name})`, () => {
    for (const [what, mine, theirs, field] of [
      ['a schema while the example changes', { schema: { type: 'number' } }, { example: 'x' }, 'body.schema'],
      [
        'an example while the schema changes',
        { example: 'x' },
        { schema: { type: 'number' } },
        'body.example',
      ],
    ] as const) {
      test(`${what}: checked again against it, refused (422 ${field}), the stored pair matches`, async () => {
        const { store, done } = await open();
        let between: (() => Promise<unknown>) | null = null;
        const app = buildApp({
          store: new Proxy(store, {
            get(target, prop, receiver) {
              const value = Reflect.get(target, prop, receiver);
              if (typeof value !== 'function') return value;
              if (prop !== 'upsertEventType') return value.bind(target);
              return async (...args: unknown[]) => {
                const run = between;
                between = null;
                if (run) await run();
                return value.apply(target, args);
              };
            },
          }),
          config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }),
        });
        try {
          await app.listen({ port: 0, host: '127.0.0.1' });
          const { port } = app.server.address() as { port: number };
          const put = async (body: unknown): Promise<Answer> => {
            const r = await fetch(`http://127.0.0.1:${port}/api/v1/event-types/race.pair`, {
              method: 'PUT',
              headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
            return { status: r.status, body: (await r.json()) as Answer['body'] };
          };
          assert.equal((await put({ schema: {}, example: 1 })).status, 200);
          let other: Answer | undefined;
          between = async () => {
            other = await put(theirs);
          };
          const r = await put(mine);
          assert.equal(other?.status, 200, JSON.stringify(other?.body));
          assert.equal(r.status, 422, JSON.stringify(r.body));
          assert.equal(r.body.error?.details?.field, field);
          const stored = await store.getEventType('race.pair');
          assert.deepEqual(
            { schema: stored?.schema, example: stored?.example },
            { schema: {}, example: 1, ...theirs },
            'the other PUT stored, this one not',
          );
        } finally {
          closeAnsweredConnections(app.server);
          await app.close();
          await done();
        }
      });
    }
  });
}

onBothStores(suite);

function importSuite(name: string, open: OpenStore) {
  describe(`an import entry or a PUT giving a schema while the example changes (${name})`, () => {
    /** `store`, where the first `times` upserts are each preceded by another writer's of a new example. */
    const racing = (store: Store, times: number) => {
      let left = times;
      return new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function') return value;
          if (prop !== 'upsertEventType') return value.bind(target);
          return async (...args: unknown[]) => {
            if (left > 0) {
              await target.upsertEventType({ name: 'race.pair', example: `x${left--}` }, Date.now());
            }
            return value.apply(target, args);
          };
        },
      });
    };

    test('checked again against the new example, refused naming the entry; the stored pair matches', async () => {
      const { store, done } = await open();
      try {
        await store.upsertEventType({ name: 'race.pair', schema: {}, example: 1 }, Date.now());
        await assert.rejects(
          storeCatalog(racing(store, 1), [{ name: 'race.pair', schema: { type: 'number' } }], 'c.json'),
          {
            message:
              'c.json: eventTypes[0] (race.pair).schema: the stored example does not match the schema: example must be number (schema keyword #/type)',
          },
        );
        const stored = await store.getEventType('race.pair');
        assert.deepEqual({ schema: stored?.schema, example: stored?.example }, { schema: {}, example: 'x1' });
      } finally {
        await done();
      }
    });

    test('changed at every try: refused after the tries a PUT makes, nothing of it stored', async () => {
      const { store, done } = await open();
      try {
        await store.upsertEventType({ name: 'race.pair', schema: {}, example: 'a string' }, Date.now());
        await assert.rejects(
          storeCatalog(
            racing(store, EVENT_TYPE_PUT_ATTEMPTS),
            [{ name: 'race.pair', schema: { type: 'string' } }],
            'c.json',
          ),
          /^CommandError: c\.json: eventTypes\[0\] \(race\.pair\): its stored example changed 3 times while this entry was checked against it/,
        );
        const stored = await store.getEventType('race.pair');
        assert.deepEqual({ schema: stored?.schema, example: stored?.example }, { schema: {}, example: 'x1' });
      } finally {
        await done();
      }
    });

    test('a PUT changed at every try: 409 naming body.schema after the tries, nothing of it stored', async () => {
      const { store, done } = await open();
      const app = buildApp({
        store: racing(store, EVENT_TYPE_PUT_ATTEMPTS),
        config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }),
      });
      try {
        await store.upsertEventType({ name: 'race.pair', schema: {}, example: 'a string' }, Date.now());
        await app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = app.server.address() as { port: number };
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/event-types/race.pair`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ schema: { type: 'string' } }),
        });
        const body = (await r.json()) as Answer['body'] & { error?: { code?: string; message?: string } };
        assert.equal(r.status, 409, JSON.stringify(body));
        assert.equal(body.error?.code, 'HERALD_ERR_CONFLICT');
        assert.equal(body.error?.details?.field, 'body.schema');
        assert.match(String(body.error?.message), /stored example changed 3 times/);
        const stored = await store.getEventType('race.pair');
        assert.deepEqual({ schema: stored?.schema, example: stored?.example }, { schema: {}, example: 'x1' });
      } finally {
        closeAnsweredConnections(app.server);
        await app.close();
        await done();
      }
    });
  });
}

onBothStores(importSuite);
