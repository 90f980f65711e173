/**
 * The dispatcher's writes that fail on a full disk are written once space is freed, well before
 * the lease (10 minutes here) runs out. A record given up on a full disk left its delivery leased
 * with no attempt recorded, sent again when the lease ran out; a hand-back that failed left its
 * delivery leased, neither sent nor queued, until the lease ran out. A stop that gives records up
 * while the disk is full says so (it said the database could not be reached). The disk is real:
 * the SQLite file lives on a 16 MiB tmpfs the test mounts (tests run as root) and fills with a
 * file, its WAL cut to nothing first, so the next write needs space and fails with SQLITE_FULL;
 * deleting the file frees it. The real store, dispatcher and sender, a loopback receiver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { fillFileSystem } from '../support/fill-file-system.ts';
import { until } from '../support/wait-until.ts';
import { heldReceiver } from './held-receiver.ts';

const LEASE_MS = 600_000;
const WORKER = 'w-full-disk';

/** A 16 MiB tmpfs at a new directory, a store on it, and a way to fill its disk and free it again. */
async function onSmallDisk(run: (ctx: Awaited<ReturnType<typeof setUp>>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir]);
  try {
    const ctx = await setUp(dir);
    try {
      await run(ctx);
    } finally {
      await ctx.close();
    }
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function setUp(dir: string) {
  const file = join(dir, 'herald.db');
  const store = await openStore(`sqlite:${file}`);
  const receiver = await heldReceiver(['first']);
  const sender = createSender({
    allowNetworks: ['127.0.0.1/32'],
    maxResponseBytes: 65536,
    userAgent: 'test',
  });
  const errors: string[] = [];
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: { ...DEFAULT_DELIVERY, pollIntervalMs: 20, allowNetworks: ['127.0.0.1/32'], leaseMs: LEASE_MS },
    workerId: WORKER,
    hooks: { onError: (error, during) => errors.push(`${during}: ${String(error)}`) },
  });
  const now = Date.now();
  const project = await store.createProject({ name: 'full-disk' }, now);
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  for (const path of ['first', 'second'])
    await store.createEndpoint(
      endpointInput(project.id, { url: `${receiver.url}/${path}`, eventTypes: [path] }),
      secret,
      now,
    );
  const filler = join(dir, 'filler');
  const read = () => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return db
        .prepare('SELECT status, attempts FROM deliveries ORDER BY created_at')
        .all()
        .map((r) => ({ status: r.status, attempts: r.attempts }));
    } finally {
      db.close();
    }
  };
  return {
    store,
    project,
    receiver,
    dispatcher,
    errors,
    read,
    /** Cuts the WAL to nothing (so the next write needs space), then fills the file system. */
    fill() {
      const db = new DatabaseSync(file);
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      db.close();
      fillFileSystem(filler);
    },
    free() {
      rmSync(filler);
    },
    async close() {
      await dispatcher.stop({ graceMs: 1_000 });
      await receiver.close();
      await sender.close();
      await store.close();
    },
  };
}

test('full disk: an attempt sent as the disk filled is recorded once space is freed, not sent again after its lease', async () => {
  await onSmallDisk(async ({ store, project, receiver, dispatcher, errors, read, fill, free }) => {
    await dispatcher.start();
    await store.acceptEvents(project.id, [eventInput('first')], Date.now());
    await until('the attempt is out', () => receiver.held.length === 1);
    fill();
    receiver.letGo(); // its record cannot be written now
    await until('the record failed on the full disk', () =>
      errors.some((e) => e.startsWith('recordAttempts') && /full/.test(e)),
    );
    const freedAt = Date.now();
    free();
    await until('the attempt is recorded', () => read()[0]?.status === 'succeeded', 30_000);
    assert.ok(Date.now() - freedAt < LEASE_MS / 10);
    assert.deepEqual(read(), [{ status: 'succeeded', attempts: 1 }]);
    assert.deepEqual(receiver.arrivals, ['first']);
  });
});

test('full disk: a delivery handed off and handed back while the disk is full is sent once space is freed, not after its lease', async () => {
  await onSmallDisk(async ({ store, project, receiver, dispatcher, errors, read, fill, free }) => {
    await dispatcher.start();
    await store.acceptEvents(project.id, [eventInput('first')], Date.now());
    await until('the first attempt is out', () => receiver.held.length === 1);
    // Accepted as the disk filled, leased to the dispatcher for a hand-off (handoff.ts).
    const [accepted] = await store.acceptEvents(project.id, [eventInput('second')], Date.now(), {
      lease: { workerId: WORKER, leaseMs: LEASE_MS, max: 1 },
    });
    assert.equal(accepted!.leased, 1);
    const handedOff: ClaimedDelivery = {
      delivery: accepted!.deliveries[0]!,
      event: accepted!.event,
      payloadJson: accepted!.payloadJson!,
    };
    fill();
    receiver.letGo();
    await until('the record failed on the full disk', () =>
      errors.some((e) => e.startsWith('recordAttempts') && /full/.test(e)),
    );
    // Records waiting for the disk: the hand-off goes back to the store, a write that fails now.
    await dispatcher.dispatchClaimed!([handedOff]);
    await until('the hand-back failed on the full disk', () =>
      errors.some((e) => e.startsWith('release') && /full/.test(e)),
    );
    const freedAt = Date.now();
    free();
    await until('both are sent and recorded', () => read().every((d) => d.status === 'succeeded'), 30_000);
    assert.ok(Date.now() - freedAt < LEASE_MS / 10);
    assert.deepEqual(read(), [
      { status: 'succeeded', attempts: 1 },
      { status: 'succeeded', attempts: 1 },
    ]);
    assert.deepEqual(receiver.arrivals, ['first', 'second']);
  });
});

test('full disk: a stop while a record waits for space says the disk was full, not that the database could not be reached', async () => {
  await onSmallDisk(async ({ store, project, receiver, dispatcher, errors, fill, free }) => {
    await dispatcher.start();
    await store.acceptEvents(project.id, [eventInput('first')], Date.now());
    await until('the attempt is out', () => receiver.held.length === 1);
    fill();
    receiver.letGo();
    await until('the record failed on the full disk', () =>
      errors.some((e) => e.startsWith('recordAttempts') && /full/.test(e)),
    );
    await dispatcher.stop({ graceMs: 200 });
    free();
    const line = errors.find((e) => e.startsWith('shutdown: ') && /record could not be written/.test(e));
    assert.match(
      line ?? String(errors),
      /^shutdown: Error: 1 attempt ended but its record could not be written before the stop \(the database's disk was full\): its delivery is sent again/,
    );
  });
});
