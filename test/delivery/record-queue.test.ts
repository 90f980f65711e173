/** The dispatcher's record queue on a real SQLite store: batches, order, and the unrecorded bound. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRecordQueue } from '../../src/delivery/record-queue.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { allPages, attemptRecord, eventInput, projectWithEndpoints, T0 } from '../store/helpers.ts';

async function withStore(fn: (store: Store) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-records-'));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.migrate();
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('256 attempts waiting for their write make the queue full until a write finishes; every record is written', async () => {
  await withStore(async (store) => {
    const { project } = await projectWithEndpoints(store, 1);
    const accepted = await store.acceptEvents(
      project.id,
      Array.from({ length: 300 }, () => eventInput('a')),
      T0,
    );
    const records = accepted.map((a) => attemptRecord(a.deliveries[0]!, a.event));
    const written: boolean[] = [];
    const queue = createRecordQueue({
      store,
      failureThreshold: 10,
      clock: () => T0,
      onWritten: (wasFull) => written.push(wasFull),
      onEndpointDisabled: () => assert.fail('nothing fails here'),
      onError: (error) => assert.fail(String(error)),
    });
    for (const r of records.slice(0, 255)) queue.add(r);
    assert.equal(queue.full, false, '255 waiting');
    queue.add(records[255]!);
    assert.equal(queue.full, true, '256 waiting: the dispatcher starts nothing more');
    for (const r of records.slice(256)) queue.add(r);
    await queue.flush();
    assert.equal(queue.full, false);
    // Written in batches of 100 as they filled, then the rest on flush: the first write found it full.
    assert.deepEqual(written, [true, false, false]);
    const attempts = await allPages((cursor) => store.listAttempts(project.id, { limit: 100, cursor }));
    assert.equal(attempts.flat().length, 300);
    const delivery = await store.getDelivery(project.id, accepted[299]!.deliveries[0]!.id);
    assert.equal(delivery?.status, 'succeeded');
  });
});

test('a single record is written within a few milliseconds without a flush', async () => {
  await withStore(async (store) => {
    const { project } = await projectWithEndpoints(store, 1);
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    let resolveWritten: () => void;
    const writtenOnce = new Promise<void>((r) => (resolveWritten = r));
    const queue = createRecordQueue({
      store,
      failureThreshold: 10,
      clock: () => T0,
      onWritten: () => resolveWritten(),
      onEndpointDisabled: () => {},
      onError: (error) => assert.fail(String(error)),
    });
    queue.add(attemptRecord(accepted!.deliveries[0]!, accepted!.event));
    await writtenOnce;
    const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
    assert.equal(delivery?.attempts, 1);
  });
});
