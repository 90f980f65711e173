/** The retention purger (src/retention/purger.ts) over a real SQLite store. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { createPurger, pauseAfter } from '../../src/retention/purger.ts';
import { openStore } from '../../src/store/open-store.ts';
import { DatabaseFileGoneError } from '../../src/store/sqlite/database-file-watch.ts';
import type { Store } from '../../src/store/store.ts';
import { attemptRecord, DAY, eventInput, projectWithEndpoints, T0 } from '../store/helpers.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function store(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-purger-'));
  const s = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => s.close());
  return s;
}

const OLD = T0 - 40 * DAY;
const RETENTION = 30 * DAY;

/** `n` old events with no endpoint to go to (finished from the start), in batches of 500. */
async function oldEvents(s: Store, projectId: string, n: number) {
  for (let done = 0; done < n; done += 500) {
    await s.acceptEvents(
      projectId,
      Array.from({ length: Math.min(500, n - done) }, () => eventInput('old')),
      OLD,
    );
  }
}

test('a run purges every project in bounded batches, keeps what is in use, and logs the counts', async () => {
  const s = await store();
  const { project } = await projectWithEndpoints(s, 1, OLD);
  const noEndpoints = await s.createProject({ name: 'no endpoints' }, OLD);
  const other = await s.createProject({ name: 'other' }, OLD);
  await oldEvents(s, noEndpoints.id, 23);
  await oldEvents(s, other.id, 7);
  // Delivered long ago: goes with its delivery and attempt. Pending since then: stays.
  const [delivered, waiting] = await s.acceptEvents(project.id, [eventInput('a'), eventInput('b')], OLD);
  const claims = await s.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: OLD, workerId: 'w' });
  const first = claims.find((c) => c.event.id === delivered!.event.id)!;
  const second = claims.find((c) => c.event.id === waiting!.event.id)!;
  await s.recordAttempts(
    [
      attemptRecord(first.delivery, first.event, { startedAt: OLD }),
      attemptRecord(second.delivery, second.event, {
        outcome: 'failed',
        startedAt: OLD,
        nextAttemptAt: T0 + DAY,
      }),
    ],
    { now: OLD, failureThreshold: 100 },
  );
  const [recent] = await s.acceptEvents(project.id, [eventInput('recent')], T0 - DAY);

  const logged: { fields: Record<string, unknown>; message: string }[] = [];
  const purger = createPurger({
    store: s,
    retentionMs: RETENTION,
    batchSize: 10,
    pauseMs: 0,
    clock: () => T0,
    log: {
      info: (fields, message) => logged.push({ fields: fields as Record<string, unknown>, message }),
      warn: (fields) => assert.fail(JSON.stringify(fields)),
      error: (fields) => assert.fail(JSON.stringify(fields)),
    },
  });
  const totals = await purger.runOnce();
  assert.equal(totals.events, 23 + 7 + 1);
  assert.equal(totals.deliveries, 1);
  assert.equal(totals.attempts, 2, 'the delivered one, and the old attempt of the waiting one');
  assert.ok(totals.batches >= 4, `${totals.batches} batches of at most 10 events`);
  assert.equal(logged.length, 2, 'the round starting, then its end (the clock stands still: no progress)');
  assert.match(logged[0]!.message, /^retention: purging history older than /);
  assert.match(logged[1]!.message, /^retention: purged 31 events, 1 delivery, 2 attempts/);
  assert.equal(logged[1]!.fields.events, 31);

  assert.equal(await s.getEvent(project.id, delivered!.event.id), null);
  assert.ok(await s.getEvent(project.id, waiting!.event.id));
  assert.equal((await s.getDelivery(project.id, second.delivery.id))?.status, 'pending');
  assert.ok(await s.getEvent(project.id, recent!.event.id));
  assert.deepEqual((await s.listEvents(other.id, { limit: 10 })).data, []);
  assert.deepEqual((await s.listEvents(noEndpoints.id, { limit: 10 })).data, []);

  // Nothing left: the next run purges nothing and says nothing.
  const again = await purger.runOnce();
  assert.equal(again.events + again.attempts + again.operationalEvents, 0);
  assert.equal(logged.length, 2);
});

test('a long round logs when it starts, its progress at most every 10 s (not per batch), then its end', async () => {
  const s = await store();
  const bulk = await s.createProject({ name: 'bulk' }, OLD);
  await oldEvents(s, bulk.id, 300);
  const { logger, lines } = capturedLogger();
  // Each batch takes 3 s of the purger's clock: 31 batches (the last finds nothing), 93 s.
  let now = T0;
  const slow: Pick<Store, 'listProjects' | 'purgeBefore'> = {
    listProjects: (q) => s.listProjects(q),
    purgeBefore: async (...args) => {
      now += 3_000;
      return s.purgeBefore(...args);
    },
  };
  const purger = createPurger({
    store: slow,
    retentionMs: RETENTION,
    batchSize: 10,
    pauseMs: 0,
    clock: () => now,
    log: logger,
  });
  const purging = purger.runOnce();
  const totals = await purging;
  assert.equal(totals.events, 300);
  const messages = lines.map((l) => String(l.msg));
  assert.match(messages[0]!, /^retention: purging history older than /);
  assert.match(messages.at(-1)!, /^retention: purged 300 events, 0 deliveries, 0 attempts/);
  const progress = lines.slice(1, -1);
  assert.ok(progress.length >= 5 && progress.length <= 10, `${progress.length} progress lines in ~93 s`);
  for (const l of progress)
    assert.match(
      String(l.msg),
      /^retention: \d+ events, 0 deliveries, 0 attempts and 0 operational events purged so far \(\d+ s\)$/,
    );
  const counted = progress.map((l) => Number(l.events));
  assert.deepEqual(
    counted,
    [...counted].sort((a, b) => a - b),
    'counts so far grow',
  );
  assert.ok(counted.every((n) => n > 0 && n < 300));
});

test('delivery is not paused: writes go through between batches while a large purge runs', async () => {
  const s = await store();
  const { project } = await projectWithEndpoints(s, 1, OLD);
  const bulk = await s.createProject({ name: 'bulk' }, OLD);
  await oldEvents(s, bulk.id, 5_000);
  const purger = createPurger({
    store: s,
    retentionMs: RETENTION,
    batchSize: 200,
    pauseMs: 1,
    clock: () => T0,
  });

  let ticks = 0;
  let longestGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 1);
  let purgeDone = 0;
  const purging = purger.runOnce().then((t) => {
    purgeDone = performance.now();
    return t;
  });
  // The hot path meanwhile: accept events and record attempts.
  let writesDone = 0;
  for (let i = 0; i < 5; i++) {
    await s.acceptEvents(project.id, [eventInput('live')], T0);
    const claims = await s.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + 1, workerId: 'w' });
    await s.recordAttempts(
      claims.map((c) => attemptRecord(c.delivery, c.event, { startedAt: T0 + 1 })),
      { now: T0 + 1, failureThreshold: 100 },
    );
  }
  writesDone = performance.now();
  const totals = await purging;
  clearInterval(timer);
  assert.equal(totals.events, 5_000);
  assert.ok(totals.batches >= 25);
  assert.ok(writesDone < purgeDone, 'the writes finished while the purge was still running');
  assert.ok(
    ticks >= totals.batches / 2,
    `the event loop ran ${ticks} times during ${totals.batches} batches`,
  );
  assert.ok(longestGap < 500, `the event loop was held for ${Math.round(longestGap)} ms at most`);
  assert.equal((await s.listEvents(project.id, { limit: 10 })).data.length, 5, 'live events untouched');
});

test('start runs in the background and stop ends it between two batches', async () => {
  const s = await store();
  const bulk = await s.createProject({ name: 'bulk' }, OLD);
  await oldEvents(s, bulk.id, 3_000);
  let batches = 0;
  const counting: Pick<Store, 'listProjects' | 'purgeBefore'> = {
    listProjects: (q) => s.listProjects(q),
    purgeBefore: async (...args) => {
      batches++;
      return s.purgeBefore(...args);
    },
  };
  const purger = createPurger({
    store: counting,
    retentionMs: RETENTION,
    batchSize: 10,
    pauseMs: 5,
    firstRunMs: 0,
    clock: () => T0,
  });
  purger.start();
  while (batches < 3) await new Promise((r) => setTimeout(r, 5));
  await purger.stop();
  const stoppedAt = batches;
  assert.ok(stoppedAt < 300, 'stopped before the end');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(batches, stoppedAt, 'nothing more after stop');
  const left = (await s.listEvents(bulk.id, { limit: 1000 })).data.length;
  assert.equal(left, Math.min(1000, 3_000 - stoppedAt * 10));
});

test('a database outage is logged as the API and the dispatcher log it: one warn line per 10 s without a stack, then the rounds failed since; other failures with their stack, once per 10 s per kind', async () => {
  let now = T0;
  let rounds = 0;
  let failure: Error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:15433'), {
    code: 'ECONNREFUSED',
  });
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const line = (level: string) => (fields: object, message: string) =>
    lines.push({ level, fields: fields as Record<string, unknown>, message });
  const purger = createPurger({
    store: {
      listProjects: async () => {
        rounds++;
        throw failure;
      },
      purgeBefore: () => assert.fail('no project to purge'),
    },
    retentionMs: RETENTION,
    firstRunMs: 0,
    intervalMs: 1,
    clock: () => now,
    log: { info: line('info'), warn: line('warn'), error: line('error') },
  });
  const roundsPast = async (n: number) => {
    const until = rounds + n;
    while (rounds < until) await new Promise((r) => setTimeout(r, 2));
  };
  purger.start();
  try {
    await roundsPast(5);
    assert.deepEqual(
      lines.map((l) => l.level),
      ['warn'],
      'one line for a burst of failed rounds',
    );
    const [first] = lines;
    assert.match(first!.message, /^retention: the database cannot be reached; purging again next round/);
    assert.deepEqual(first!.fields.cause, { code: 'ECONNREFUSED', message: failure.message });
    assert.equal(first!.fields.err, undefined, 'no error object, so no stack');
    assert.doesNotMatch(JSON.stringify(lines), /at async|\n\s+at /, 'no stack anywhere');

    now += 10_000;
    await roundsPast(2);
    assert.equal(lines.length, 2, JSON.stringify(lines));
    assert.equal(lines[1]!.level, 'warn');
    assert.ok(Number(lines[1]!.fields.failedSinceLastLine) >= 4, JSON.stringify(lines[1]));

    // Not an outage: a bug or a data problem, logged at error level with its stack, at most once
    // per 10 s per kind with the rounds failed since (as the API's 500s: store-error-log.ts).
    failure = new Error('no such column: purged_at');
    await roundsPast(3);
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.equal(errors[0]!.message, 'retention: a purge batch failed; trying again next round');
    assert.equal(errors[0]!.fields.err, failure);

    // The SQLite file deleted under the process: an error line per 10 s that names the file.
    now += 10_000;
    failure = new DatabaseFileGoneError('/var/lib/herald/herald.db', 'was deleted');
    const before = lines.length;
    await roundsPast(3);
    const gone = lines.slice(before);
    assert.equal(gone.length, 1, JSON.stringify(gone));
    assert.match(JSON.stringify(gone[0]!.fields.cause), /\/var\/lib\/herald\/herald\.db was deleted/);
    assert.equal(gone[0]!.fields.err, undefined, 'no stack');
  } finally {
    await purger.stop();
  }
});

test('pauseAfter: twice what the batch took, at least the shortest pause, at most a second', () => {
  assert.equal(pauseAfter(0, 20), 20);
  assert.equal(pauseAfter(4, 20), 20);
  assert.equal(pauseAfter(30, 20), 60);
  assert.equal(pauseAfter(5_000, 20), 1_000);
  assert.equal(pauseAfter(1, 0), 2);
});

test('after a slow batch the purger waits twice as long before the next one (it gives way to a busy database)', async () => {
  const s = await store();
  const bulk = await s.createProject({ name: 'bulk' }, OLD);
  await oldEvents(s, bulk.id, 40);
  // Each batch takes ~40 ms of real time, as one waiting for a busy database would.
  const calls: { start: number; end: number }[] = [];
  const slow: Pick<Store, 'listProjects' | 'purgeBefore'> = {
    listProjects: (q) => s.listProjects(q),
    purgeBefore: async (...args) => {
      const start = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 40));
      const result = await s.purgeBefore(...args);
      calls.push({ start, end: performance.now() });
      return result;
    },
  };
  const purger = createPurger({
    store: slow,
    retentionMs: RETENTION,
    batchSize: 10,
    pauseMs: 0,
    clock: () => T0,
  });
  const totals = await purger.runOnce();
  assert.equal(totals.events, 40);
  assert.equal(calls.length, 5, 'four full batches, then one that finds nothing');
  for (let i = 1; i < calls.length; i++) {
    const took = calls[i - 1]!.end - calls[i - 1]!.start;
    const pause = calls[i]!.start - calls[i - 1]!.end;
    // A timer may fire up to a millisecond early.
    assert.ok(
      pause >= 2 * took - 2,
      `batch ${i}: paused ${pause.toFixed(1)} ms after one of ${took.toFixed(1)} ms`,
    );
  }
});
