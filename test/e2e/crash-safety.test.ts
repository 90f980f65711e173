/**
 * Crash safety, repeatedly: `herald serve` is SIGKILLed at random moments, several times, under
 * sustained load (single and batch requests, three projects, endpoints with every signature scheme),
 * and restarted each time on the same database. The client resends every request that got no
 * answer, with the same idempotency keys. At the end every acknowledged event has reached every
 * endpoint it was fanned out to (signatures verified), no key made two events, duplicates are
 * counted and reported, and the last server stops on SIGTERM with exit code 0.
 *
 * The kill moments and the load are drawn from a seeded PRNG; the seed is printed, and
 * HERALD_TEST_CRASH_SEED=<seed> replays a run (HERALD_TEST_CRASH_KILLS sets the number of kills;
 * HERALD_TEST_CRASH_VERBOSE=1 shows the kill times and what the store recorded for a few duplicates).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import type { SchemeOptions, SignatureScheme } from '@herald/verify';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import {
  arrivalKey,
  type CountingReceiver,
  type DuplicateArrival,
  startCountingReceiver,
} from './counting-receiver.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';
import { type AckedEvent, LoadGenerator, type LoadProject, seededRandom } from './load-generator.ts';

const TOKEN = 'e2e-crash-token-0123456789abcdef';
const SEED = process.env.HERALD_TEST_CRASH_SEED
  ? Number(process.env.HERALD_TEST_CRASH_SEED)
  : randomInt(1, 2 ** 31 - 1);
const KILLS = Number(process.env.HERALD_TEST_CRASH_KILLS ?? 5);
assert.ok(Number.isSafeInteger(SEED), 'HERALD_TEST_CRASH_SEED must be an integer');
assert.ok(Number.isInteger(KILLS) && KILLS >= 1, 'HERALD_TEST_CRASH_KILLS must be a positive integer');
console.log(`crash-safety: seed ${SEED}, ${KILLS} kills per store (replay: HERALD_TEST_CRASH_SEED=${SEED})`);

/** Delay after a (re)start before the next SIGKILL, drawn from the seed. */
const KILL_AFTER_MS: [number, number] = [300, 3_000];
/** Load after the last restart before the client stops making new requests. */
const TAIL_LOAD_MS: [number, number] = [500, 1_500];
/** Budget for every resent request to be acknowledged, then for every delivery to arrive. */
const RESEND_BUDGET_MS = 10_000;
const ARRIVAL_BUDGET_MS = 20_000;
/** How long after a killed process's exit the receiver (on this event loop) may still be reading its requests. */
const KILL_READ_MARGIN_MS = 250;
/** SIGTERM gives attempts in flight 10 s; nothing should be in flight by then. */
const SHUTDOWN_BUDGET_MS = 15_000;

const HERALD_ENV = {
  HERALD_ADMIN_TOKEN: TOKEN,
  HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
  // Short timeouts allow a short lease (at least the largest timeout + 5 s): on PostgreSQL a killed
  // process's claims come back only when their lease ends.
  HERALD_DELIVERY_TIMEOUT_MS: '2000',
  HERALD_DELIVERY_MAX_TIMEOUT_MS: '2000',
  HERALD_LEASE_MS: '7000',
  // A loaded machine can make a loopback attempt time out now and then; ten in a row on one endpoint
  // would disable it and park its deliveries (kept, not lost, but not delivered within this test).
  HERALD_FAILURE_THRESHOLD: '1000000',
};
const RETRY_SCHEDULE = [0.2, 0.5, 1, 1, 1, 1, 1, 1, 1, 1];

/** The installation the load runs against. Endpoints are told apart by their path at the receiver. */
interface EndpointPlan {
  path: string;
  eventTypes: string[];
  signature: { scheme: SignatureScheme } & SchemeOptions;
  settings?: Record<string, unknown>;
}
const PROJECTS: { uid: string; eventTypes: string[]; endpoints: (projectId: string) => EndpointPlan[] }[] = [
  {
    uid: 'crash-shop',
    eventTypes: ['OrderPaid', 'OrderRefunded'],
    endpoints: () => [
      { path: '/shop/standard', eventTypes: [], signature: { scheme: 'standard' } },
      {
        path: '/shop/stripe',
        eventTypes: ['OrderPaid'],
        signature: { scheme: 'stripe' },
        settings: { envelope: 'event-data' },
      },
      {
        path: '/shop/github',
        eventTypes: [],
        signature: { scheme: 'github' },
        settings: { envelope: 'raw', method: 'PUT' },
      },
    ],
  },
  {
    uid: 'crash-playtest',
    eventTypes: ['slot.submitted', 'slot.reviewed'],
    endpoints: () => [
      {
        path: '/playtest/wpg',
        eventTypes: [],
        signature: {
          scheme: 'hmac-sha256',
          signatureHeader: 'X-WPG-Signature',
          timestampHeader: 'X-WPG-Timestamp',
        },
        settings: { envelope: 'event-data' },
      },
      { path: '/playtest/gamepush', eventTypes: ['slot.submitted'], signature: { scheme: 'sha256-body' } },
    ],
  },
  {
    uid: 'crash-push',
    eventTypes: ['PushSent'],
    endpoints: (projectId) => [
      {
        path: '/push/ppg',
        eventTypes: [],
        signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: projectId },
        settings: { envelope: 'raw' },
      },
      { path: '/push/none', eventTypes: [], signature: { scheme: 'none' } },
    ],
  },
];

let pg: LocalPostgres | undefined;
after(() => pg?.stop());

const BACKENDS: { name: string; salt: number; env: () => Promise<Record<string, string>> }[] = [
  { name: 'SQLite', salt: 1, env: async () => ({}) },
  {
    name: 'PostgreSQL',
    salt: 2,
    env: async () => {
      pg ??= await startPostgres();
      return { HERALD_DATABASE_URL: await pg.createDatabase() };
    },
  },
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Installation {
  projects: LoadProject[];
  /** projectId → its endpoints: receiver path, filter, id. */
  endpointsOf: Map<string, { path: string; eventTypes: string[]; id: string }[]>;
}

/** Creates the projects, their API keys and endpoints; registers each endpoint with the receiver. */
async function install(url: string, receiver: CountingReceiver): Promise<Installation> {
  const projects: LoadProject[] = [];
  const endpointsOf: Installation['endpointsOf'] = new Map();
  for (const plan of PROJECTS) {
    const project = await api<{ id: string }>(url, TOKEN, 'POST', '/api/v1/projects', {
      name: plan.uid,
      uid: plan.uid,
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const projectId = project.body.id;
    const key = await api<{ key: string }>(url, TOKEN, 'POST', `/api/v1/projects/${projectId}/api-keys`, {
      name: 'load',
    });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const endpoints = [];
    for (const e of plan.endpoints(projectId)) {
      const created = await api<{ id: string; secret: string }>(
        url,
        TOKEN,
        'POST',
        `/api/v1/projects/${projectId}/endpoints`,
        {
          url: `${receiver.url}${e.path}`,
          eventTypes: e.eventTypes,
          retrySchedule: RETRY_SCHEDULE,
          signature: e.signature,
          ...e.settings,
        },
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const { scheme, ...options } = e.signature;
      receiver.register(e.path, { scheme, secret: created.body.secret, options });
      endpoints.push({ path: e.path, eventTypes: e.eventTypes, id: created.body.id });
    }
    endpointsOf.set(projectId, endpoints);
    projects.push({ id: projectId, apiKey: key.body.key, eventTypes: plan.eventTypes });
  }
  return { projects, endpointsOf };
}

/** Every event the store holds for a project, via the API: id → idempotency key. */
async function storedEvents(url: string, projectId: string): Promise<Map<string, string | null>> {
  const events = new Map<string, string | null>();
  let cursor: string | null = null;
  do {
    const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api<{
      data: { id: string; idempotencyKey: string | null }[];
      nextCursor: string | null;
    }>(url, TOKEN, 'GET', `/api/v1/projects/${projectId}/events?${query}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    for (const e of page.body.data) events.set(e.id, e.idempotencyKey);
    cursor = page.body.nextCursor;
  } while (cursor);
  return events;
}

/** Log lines at warn level or above (pino: 40 warn, 50 error, 60 fatal), shortened. */
function logProblems(herald: HeraldProcess): string[] {
  return herald
    .logLines()
    .filter((l) => typeof l.level === 'number' && l.level >= 40)
    .map((l) => JSON.stringify(l).slice(0, 600));
}

const firstOf = (items: readonly string[], n = 10) =>
  items.slice(0, n).concat(items.length > n ? [`… ${items.length - n} more`] : []);

interface Kill {
  killAt: number;
  exitAt: number;
}

/**
 * Duplicates, told apart by cause: a kill explains one when it fell between the two copies (the
 * first was sent but its attempt not yet recorded when the process died); others have another cause
 * (an attempt that timed out although the receiver got it, for one).
 */
function classifyDuplicates(duplicates: readonly DuplicateArrival[], kills: readonly Kill[]) {
  const lags: number[] = [];
  const perKill = kills.map(() => 0);
  const other: DuplicateArrival[] = [];
  for (const d of duplicates) {
    const i = kills.findIndex((k) => d.firstAt <= k.exitAt + KILL_READ_MARGIN_MS && k.killAt <= d.at);
    if (i >= 0) {
      lags.push(Math.max(0, kills[i]!.killAt - d.firstAt));
      perKill[i]!++;
    } else other.push(d);
  }
  lags.sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? 0;
  return { acrossKill: lags.length, perKill, lag: { p50: pct(50), p90: pct(90), max: pct(100) }, other };
}

async function runCrashTest(t: TestContext, backend: (typeof BACKENDS)[number]) {
  const started = Date.now();
  // One stream per consumer, so the kill moments replay exactly whatever the timing of the load.
  const killRandom = seededRandom(SEED * 7 + backend.salt);
  const receiver = await startCountingReceiver({
    random: seededRandom(SEED * 7 + backend.salt + 200),
    failShare: 0.01,
    slowShare: 0.05,
    maxDelayMs: 40,
  });
  // Our own data directory: it outlives every restarted process and is removed at the end.
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
  // Replaced at each restart; undefined at run time only if the first start fails.
  let herald!: HeraldProcess;
  let generator: LoadGenerator | undefined;
  try {
    herald = await startHerald({
      env: { ...HERALD_ENV, ...(await backend.env()) },
      dataDir,
    });
    const { projects, endpointsOf } = await install(herald.url, receiver);
    const byId = new Map<string, AckedEvent>();
    /** Deliveries the acknowledged events must make, as receiver arrival keys. */
    const expected = new Set<string>();
    const fanOutProblems: string[] = [];
    generator = new LoadGenerator({
      projects,
      random: seededRandom(SEED * 7 + backend.salt + 100),
      parallel: 4,
      singleShare: 0.4,
      batchSize: [2, 20],
      replayShare: 0.03,
      pauseMs: [5, 40],
      onAck(event) {
        byId.set(event.id, event);
        const paths = event.deliveries.map((d) => new URL(d.url).pathname).sort();
        const want = endpointsOf
          .get(event.projectId)!
          .filter((e) => e.eventTypes.length === 0 || e.eventTypes.includes(event.type))
          .map((e) => e.path)
          .sort();
        if (paths.join() !== want.join()) {
          fanOutProblems.push(
            `${event.id} (${event.type}): deliveries to ${paths.join()}, expected ${want.join()}`,
          );
        }
        for (const path of paths) expected.add(arrivalKey(path, event.id));
      },
    });

    const kills: Kill[] = [];
    const problems: string[] = [];
    generator.start(herald.url);
    for (let k = 1; k <= KILLS; k++) {
      const ackedBefore = generator.stats.eventsAcked;
      const arrivedBefore = receiver.arrivals.size;
      const afterMs = killRandom.int(KILL_AFTER_MS[0], KILL_AFTER_MS[1]);
      await sleep(afterMs);
      // Under load means the new process has acknowledged something already (it may be slow to).
      const loadDeadline = Date.now() + 10_000;
      while (generator.stats.eventsAcked === ackedBefore && Date.now() < loadDeadline) await sleep(10);
      const killAt = Date.now();
      const exit = await herald.kill('SIGKILL');
      kills.push({ killAt, exitAt: Date.now() });
      assert.equal(exit.signal, 'SIGKILL', `kill ${k}: ${JSON.stringify(exit)}`);
      problems.push(...logProblems(herald));
      generator.setTarget(null);
      const acked = generator.stats.eventsAcked - ackedBefore;
      const arrived = receiver.arrivals.size - arrivedBefore;
      const resends = generator.pendingResends;
      assert.ok(acked > 0, `kill ${k} came under load: ${acked} events acknowledged since the last start`);
      const restartAt = Date.now();
      herald = await herald.restart();
      generator.setTarget(herald.url);
      t.diagnostic(
        `kill ${k} at +${afterMs} ms: ${acked} events acknowledged and ${arrived} deliveries arrived since the ` +
          `last start, ${resends} requests to resend; restarted in ${Date.now() - restartAt} ms`,
      );
    }
    await sleep(killRandom.int(TAIL_LOAD_MS[0], TAIL_LOAD_MS[1]));
    await generator.finish(RESEND_BUDGET_MS);
    const loadEndedAt = Date.now();

    // Every acknowledged delivery must arrive: wait (bounded) for the last ones.
    const missing = () => [...expected].filter((k) => !receiver.arrivals.has(k));
    const deadline = Date.now() + ARRIVAL_BUDGET_MS;
    while (missing().length > 0 && Date.now() < deadline) await sleep(100);
    const drainMs = Date.now() - loadEndedAt;
    const lost = missing();

    const duplicates = classifyDuplicates(receiver.duplicates, kills);
    const stats = generator.stats;
    const line =
      `crash-safety (${backend.name}, seed ${SEED}): ${KILLS} kills; ${stats.eventsAcked} events acknowledged ` +
      `(${expected.size} deliveries): ${expected.size - lost.length} arrived, ${lost.length} lost, ` +
      `${receiver.duplicates.length} duplicates (${duplicates.acrossKill} with a kill between the copies ` +
      `[${duplicates.perKill.join(', ')}], the first ` +
      `copy p50 ${duplicates.lag.p50} / p90 ${duplicates.lag.p90} / max ${duplicates.lag.max} ms before it; ` +
      `${duplicates.other.length} without); ${stats.requestsFailed} sends failed and were resent, ` +
      `${stats.ackedOnResendAlreadyStored} events stored before a kill were acknowledged on the resend, ` +
      `${stats.replaysChecked} idempotent replays checked; answers other than 202: ` +
      `${JSON.stringify(stats.unexpectedStatus)}; ${receiver.failedOnPurpose()} attempts answered 503 ` +
      `on purpose; drained in ${drainMs} ms; ${Date.now() - started} ms in all`;
    t.diagnostic(line);
    console.log(line);

    // Evidence, before the verdict: what the store says about lost deliveries and unexplained duplicates.
    const evidence = async (eventId: string, path: string) => {
      const event = byId.get(eventId)!;
      const endpoint = endpointsOf.get(event.projectId)!.find((e) => e.path === path)!;
      const found = await api<{ deliveries?: { endpointId: string }[] }>(
        herald.url,
        TOKEN,
        'GET',
        `/api/v1/projects/${event.projectId}/events/${eventId}`,
      );
      const attempts = await api<{ data?: Record<string, unknown>[] }>(
        herald.url,
        TOKEN,
        'GET',
        `/api/v1/projects/${event.projectId}/events/${eventId}/attempts`,
      );
      return {
        eventId,
        path,
        key: event.key,
        delivery: found.body.deliveries?.find((d) => d.endpointId === endpoint.id),
        attempts: attempts.body.data
          ?.filter((a) => a.endpointId === endpoint.id)
          .map((a) => ({
            number: a.number,
            startedAt: a.startedAt,
            durationMs: a.durationMs,
            outcome: a.outcome,
            status: (a.response as { status?: number } | null)?.status ?? null,
            error: a.error,
          })),
      };
    };
    const split = (key: string) => key.split(' ') as [string, string];
    if (lost.length > 0) {
      const samples = [];
      for (const k of lost.slice(0, 5)) samples.push(await evidence(split(k)[1], split(k)[0]));
      t.diagnostic(`lost (first 5 of ${lost.length}): ${JSON.stringify(samples)}`);
    }
    if (process.env.HERALD_TEST_CRASH_VERBOSE) {
      const samples = [];
      for (const d of receiver.duplicates.slice(0, 5)) {
        samples.push({ firstAt: d.firstAt, at: d.at, ...(await evidence(split(d.key)[1], split(d.key)[0])) });
      }
      t.diagnostic(`kills: ${JSON.stringify(kills)}; duplicates (first 5): ${JSON.stringify(samples)}`);
    }
    if (duplicates.other.length > 0) {
      const samples = [];
      for (const d of duplicates.other.slice(0, 3)) {
        samples.push({ firstAt: d.firstAt, at: d.at, ...(await evidence(split(d.key)[1], split(d.key)[0])) });
      }
      t.diagnostic(`duplicates without a kill between the copies: ${JSON.stringify(samples)}`);
    }
    problems.push(...logProblems(herald));
    if (problems.length > 0) {
      t.diagnostic(`warnings and errors logged (${problems.length}): ${firstOf(problems).join('\n')}`);
    }

    assert.deepEqual(firstOf(generator.violations), [], 'answers that break the API contract');
    assert.deepEqual(firstOf(receiver.rejected), [], 'requests the receiver could not verify');
    assert.deepEqual(firstOf(fanOutProblems), [], 'acknowledged events fanned out to the wrong endpoints');
    assert.equal(lost.length, 0, `${lost.length} acknowledged deliveries never arrived (seed ${SEED})`);

    // Idempotency: one event per key at the receiver and in the store, and nothing stored unacknowledged.
    const keysWithTwoEvents = [...receiver.eventsByKey]
      .filter(([, ids]) => ids.size > 1)
      .map(([key, ids]) => `${key}: ${[...ids].join(', ')}`);
    assert.deepEqual(firstOf(keysWithTwoEvents), [], 'idempotency keys delivered as more than one event');
    for (const project of projects) {
      const stored = await storedEvents(herald.url, project.id);
      const acked = [...byId.values()].filter((e) => e.projectId === project.id);
      const extra = [...stored.keys()].filter((id) => !byId.has(id));
      assert.deepEqual(
        firstOf(extra),
        [],
        `${project.id}: stored events never acknowledged (a key used twice?)`,
      );
      assert.equal(stored.size, acked.length, `${project.id}: stored events vs acknowledged`);
      assert.equal(
        new Set(stored.values()).size,
        stored.size,
        `${project.id}: an idempotency key stored twice`,
      );
    }

    // The last process shuts down cleanly.
    const stopAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      herald.kill('SIGTERM'),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still running'), SHUTDOWN_BUDGET_MS);
      }),
    ]);
    clearTimeout(timer);
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM\n${herald.output().slice(-2000)}`);
    t.diagnostic(`SIGTERM: exited 0 in ${Date.now() - stopAt} ms`);
  } finally {
    await generator?.finish(0).catch(() => undefined);
    await herald?.dispose();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// The two stores at once: each run has its own data directory, receiver and load, and much of it
// is waiting (restarts, leases that a kill left running out, the last deliveries' retries).
describe('crash safety', { concurrency: true }, () => {
  for (const backend of BACKENDS) {
    test(
      `${backend.name}: ${KILLS} SIGKILLs under sustained load lose no acknowledged event`,
      { timeout: 120_000 },
      (t) => runCrashTest(t, backend),
    );
  }
});
