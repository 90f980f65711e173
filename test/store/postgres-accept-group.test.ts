/**
 * How many accepts one PostgreSQL group transaction takes (GROUP_DELIVERIES), on a real database:
 * the accepts past a group's deliveries go back to the queue for the next transaction
 * (accept-batch.ts DEFERRED, group-commit.ts). acceptsWithin is counted in a unit test; nothing
 * else ran a deferred accept through the group commit, whose answer each caller must get as its own.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

test('PostgresStore: concurrent accepts past a group are written one group each, each answered with its own events; a key repeated in a later group is a duplicate', async () => {
  const store = new PostgresStore(await server.createDatabase(), { groupDeliveries: 100 });
  await store.migrate();
  try {
    const { project } = await projectWithEndpoints(store, 3);
    const batch = (tag: string, key?: string) =>
      Array.from({ length: 40 }, (_, i) => eventInput(tag, i === 0 && key ? { idempotencyKey: key } : {})); // 120 deliveries: one accept a group
    const before = store.groupCommits;
    // Submitted in one tick: one queue, which the bound splits into three transactions.
    const [one, two, three] = await Promise.all([
      store.acceptEvents(project.id, batch('one', 'k1'), T0),
      store.acceptEvents(project.id, batch('two'), T0),
      store.acceptEvents(project.id, batch('three', 'k1'), T0),
    ]);
    assert.equal(store.groupCommits - before, 3, 'one group each');
    for (const [tag, accepted] of [
      ['one', one],
      ['two', two],
      ['three', three],
    ] as const) {
      assert.ok(Array.isArray(accepted), `${tag}: answered with its events, not ${String(accepted)}`);
      assert.equal(accepted.length, 40, tag);
      const types = new Set(accepted.map((a) => a.event.type));
      assert.deepEqual([...types], [tag === 'three' ? 'one' : tag, ...(tag === 'three' ? ['three'] : [])]);
    }
    assert.equal(three[0]!.duplicate, true, "k1 was taken by the first group's event");
    assert.equal(three[0]!.event.id, one[0]!.event.id);
    assert.equal(three.filter((a) => a.duplicate).length, 1);
    assert.equal(
      await store.countPendingDeliveries(project.id, 1_000),
      (40 + 40 + 39) * 3,
      "every new event's, once",
    );
  } finally {
    await store.close();
  }
});
