/**
 * `npm run soak`: Herald under a steady, moderate, mixed load for minutes on end, watched for slow
 * leaks and stuck work rather than speed. One `herald serve` (SQLite, or PostgreSQL with
 * --postgres), one receiver process with healthy, flaky, failing and slow endpoints
 * (lib/soak-plan.ts), events through the batch API at a fixed rate, the management API used now
 * and then, and a sample line every ~30 s (memory, fds, files, backlog, rates, /healthz latency).
 * Once the load stops and the backlog drains, it checks through the API and the receiver that
 * nothing was lost or stuck (lib/soak-checks.ts), prints a summary and writes a JSON result;
 * it exits 1 when an invariant fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { nowMs, sleep } from './lib/clock.ts';
import {
  ADMIN_TOKEN,
  createDatabase,
  type HeraldDatabase,
  launchHerald,
  type RunningHerald,
  stopPostgres,
} from './lib/herald-process.ts';
import { describeMachine } from './lib/machine.ts';
import { gaugeValue } from './lib/prom.ts';
import {
  type AcceptedEvents,
  attemptCountProblems,
  counterSum,
  fanoutProblems,
  listingProblems,
  missingArrivals,
} from './lib/soak-checks.ts';
import { parseSoakOptions } from './lib/soak-options.ts';
import { EVENT_MIX, type SoakEndpoint, scaledEndpoints, takes, typeOf } from './lib/soak-plan.ts';
import { type SoakReceiver, startSoakReceiver } from './lib/soak-receiver-client.ts';
import { fileMiB, loadAverage, type ProcessReading, readProcess, round, trend } from './lib/soak-sample.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** HERALD_LEASE_MS's default: a due delivery waiting longer than this is stuck. */
const LEASE_S = 60;
const options = parseSoakOptions(process.argv.slice(2));
const ENDPOINTS = scaledEndpoints(options.retryScale);
const log = (message: string) => console.log(message);

interface Answer {
  status: number;
  text: string;
}

interface Sample {
  atS: number;
  phase: 'load' | 'drain';
  herald: ProcessReading;
  receiver: ProcessReading;
  heraldCpuPercent: number | null;
  dbMiB: number | null;
  walMiB: number | null;
  pending: number | null;
  oldestDueS: number | null;
  acceptedPerSec: number;
  deliveredPerSec: number;
  healthzMeanMs: number | null;
  healthzMaxMs: number | null;
  load1: number | null;
  logBytes: number;
}

interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

const started = nowMs();
const elapsedS = () => (nowMs() - started) / 1000;
const clockLabel = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

let db: HeraldDatabase | null = null;
let herald: RunningHerald | null = null;
let receiver: SoakReceiver | null = null;
let pool: Pool | null = null;
let pgClient: pg.Client | null = null;

async function main(): Promise<number> {
  log(
    `soak: ${options.store}, ${options.minutes} min at ${options.rate} events/s, a sample every ${options.sampleEvery} s`,
  );
  db = await createDatabase(options.store);
  receiver = await startSoakReceiver();
  const origins = [receiver.url, await receiver.extraOrigin()];
  herald = await launchHerald(db, {
    env: {
      // Whole days is the finest retention there is: the purger runs (30 s after the start, then
      // every 10 min) but finds nothing old enough to delete during a soak.
      HERALD_RETENTION_DAYS: '1',
    },
  });
  log(`herald pid ${herald.pid} on ${herald.process.url}, receiver pid ${receiver.pid}`);
  pool = new Pool(herald.process.url, { connections: 16, keepAliveTimeout: 30_000 });
  if (db.kind === 'postgres') {
    pgClient = new pg.Client({ connectionString: db.url });
    await pgClient.connect();
  }

  // Counted across the whole run: answers ≥ 500 and unexpected 4xx, by route.
  const serverErrors: string[] = [];
  const unexpected: string[] = [];
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    ok: number[] = [],
  ): Promise<Answer> => {
    const res = await pool!.request({
      method: method as 'GET',
      path,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    const line = `${method} ${path.split('?')[0]} → ${res.statusCode} ${text.slice(0, 200)}`;
    if (res.statusCode >= 500) serverErrors.push(line);
    else if (res.statusCode >= 400 && !ok.includes(res.statusCode)) unexpected.push(line);
    return { status: res.statusCode, text };
  };
  const json = async <T>(method: string, path: string, body?: unknown, ok: number[] = []): Promise<T> => {
    const answer = await request(method, path, body, ok);
    if (answer.status >= 300)
      throw new Error(`${method} ${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
    return JSON.parse(answer.text) as T;
  };

  // The catalog (test sends deliver its examples), the project and its endpoints.
  for (const { type } of EVENT_MIX) {
    await json('PUT', `/api/v1/event-types/${type}`, { example: { orderId: 1, test: true } });
  }
  const project = (await json<{ id: string }>('POST', '/api/v1/projects', { name: 'soak' })).id;
  const p = `/api/v1/projects/${project}`;
  const endpointIds = new Map<string, string>();
  const keyOf = new Map<string, string>();
  for (const e of ENDPOINTS) {
    const created = await json<{ id: string }>('POST', `${p}/endpoints`, {
      url: `${origins[e.origin]}${e.path}`,
      name: e.key,
      eventTypes: e.eventTypes,
      ...(e.timeoutMs ? { timeoutMs: e.timeoutMs } : {}),
      ...(e.retrySchedule ? { retrySchedule: e.retrySchedule } : {}),
    });
    endpointIds.set(e.key, created.id);
    keyOf.set(created.id, e.key);
  }
  const ep = (key: string) => `${p}/endpoints/${endpointIds.get(key)}`;

  // --- load: a batch every 100 ms, at most 8 in flight --------------------------------------------
  const accepted: AcceptedEvents = { ids: [], types: [] };
  const deliveryCounts: number[] = [];
  const recentDeliveriesOfA: string[] = [];
  const fanout = { missing: 0, unexpected: 0, examples: [] as string[] };
  let seq = 0;
  let owed = 0;
  let inFlight = 0;
  let skippedTicks = 0;
  let batchesSent = 0;
  const refused: string[] = [];
  const batches = new Set<Promise<void>>();
  const sendBatch = async (first: number, count: number) => {
    const events: string[] = [];
    const types: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = typeOf(first + i);
      types.push(t);
      events.push(
        `{"type":"${EVENT_MIX[t]!.type}","payload":{"seq":${first + i},"sentAt":${Date.now()},"note":"soak ${'x'.repeat(200)}"}}`,
      );
    }
    const answer = await request('POST', `${p}/events/batch`, `{"events":[${events.join(',')}]}`);
    if (answer.status !== 202) {
      refused.push(`${answer.status} ${answer.text.slice(0, 200)}`);
      return;
    }
    const data = (
      JSON.parse(answer.text) as { data: { id: string; deliveries: { id: string; endpointId: string }[] }[] }
    ).data;
    data.forEach((event, i) => {
      const type = EVENT_MIX[types[i]!]!.type;
      const keys = event.deliveries.map((d) => keyOf.get(d.endpointId) ?? d.endpointId);
      const problems = fanoutProblems(type, keys, ENDPOINTS);
      fanout.missing += problems.missing.length;
      fanout.unexpected += problems.unexpected.length;
      if ((problems.missing.length || problems.unexpected.length) && fanout.examples.length < 5) {
        fanout.examples.push(
          `${event.id} (${type}): missing ${problems.missing}, unexpected ${problems.unexpected}`,
        );
      }
      accepted.ids.push(event.id);
      accepted.types.push(types[i]!);
      deliveryCounts.push(event.deliveries.length);
      const toA = event.deliveries.find((d) => d.endpointId === endpointIds.get('a'));
      if (toA && (first + i) % 97 === 0) {
        recentDeliveriesOfA.push(toA.id);
        if (recentDeliveriesOfA.length > 50) recentDeliveriesOfA.shift();
      }
    });
  };
  let loading = true;
  const loadTimer = setInterval(() => {
    if (!loading) return;
    owed += options.rate / 10;
    if (inFlight >= 8) {
      skippedTicks++;
      return;
    }
    const count = Math.min(1000, Math.floor(owed));
    if (count === 0) return;
    owed -= count;
    const first = seq;
    seq += count;
    inFlight++;
    batchesSent++;
    const batch = sendBatch(first, count)
      .catch((error: Error) => {
        refused.push(`error ${error.message}`);
      })
      .finally(() => {
        inFlight--;
        batches.delete(batch);
      });
    batches.add(batch);
  }, 100);

  // --- /healthz every second: the event loop's health as a client sees it ------------------------
  let healthz: number[] = [];
  const healthTimer = setInterval(async () => {
    const t0 = nowMs();
    try {
      await request('GET', '/healthz');
      healthz.push(nowMs() - t0);
    } catch {
      healthz.push(Number.POSITIVE_INFINITY);
    }
  }, 1_000);

  // --- the management API, one call every 3 s in turn; the failing endpoint re-enabled ------------
  const testEvents = new Set<string>();
  const management: Record<string, number> = {};
  const enables: Record<string, number> = {};
  let turn = 0;
  const recentEvent = () => accepted.ids[Math.max(0, accepted.ids.length - 200)];
  const actions: [string, () => Promise<unknown>][] = [
    ['list events', () => json('GET', `${p}/events?limit=50`)],
    [
      'event deliveries',
      async () => recentEvent() && json('GET', `${p}/events/${recentEvent()}/deliveries?limit=10`),
    ],
    ['failed attempts', () => json('GET', `${ep('flaky')}/attempts?status=failed&limit=50`)],
    ['stats', () => json('GET', `${ep('a')}/stats?bucket=1m&since=${Math.floor(Date.now() - 3_600_000)}`)],
    [
      'retry',
      async () => {
        const id = recentDeliveriesOfA.shift();
        // 409 while an attempt of it is in flight.
        if (id) await request('POST', `${p}/deliveries/${id}/retry`, {}, [409]);
      },
    ],
    ['rotate secret', () => json('POST', `${ep('b')}/secret/rotate`, { graceSeconds: 60 })],
    [
      'test send',
      async () => {
        const sent = await json<{ eventId: string }>('POST', `${ep('a')}/test`, { eventType: 'order.paid' });
        testEvents.add(sent.eventId);
      },
    ],
    ['list endpoints', () => json('GET', `${p}/endpoints`)],
    ['operational events', () => json('GET', `${p}/operational-events?limit=20`)],
    ['event', async () => recentEvent() && json('GET', `${p}/events/${recentEvent()}`)],
    ['attempts of flaky', () => json('GET', `${ep('flaky')}/attempts?limit=100`)],
  ];
  const enableDisabled = async () => {
    const list = await json<{ data: { id: string; status: string }[] }>('GET', `${p}/endpoints?limit=100`);
    for (const e of list.data) {
      if (e.status === 'active') continue;
      const key = keyOf.get(e.id) ?? e.id;
      await json('POST', `${p}/endpoints/${e.id}/enable`, {});
      enables[key] = (enables[key] ?? 0) + 1;
    }
  };
  let managing: Promise<void> = Promise.resolve();
  const managementTimer = setInterval(() => {
    const [name, act] = actions[turn++ % actions.length]!;
    const extra = turn % 20 === 0 ? enableDisabled : null;
    managing = managing
      .then(async () => {
        await act();
        management[name] = (management[name] ?? 0) + 1;
        if (extra) await extra();
      })
      .catch((error: Error) => {
        unexpected.push(`${name}: ${error.message.slice(0, 300)}`);
      });
  }, 3_000);

  // --- samples ---------------------------------------------------------------------------------
  const samples: Sample[] = [];
  let maxOldestDueS = 0;
  let lastCpu: { at: number; ticks: number | null } = {
    at: nowMs(),
    ticks: readProcess(herald.pid).cpuTicks,
  };
  let lastCounts = { at: nowMs(), accepted: 0, delivered: 0 };
  const metrics = async () => (await request('GET', '/metrics')).text;
  const delivered = async () => {
    const counts = await receiver!.counts();
    return Object.entries(counts)
      .filter(([k]) => k.endsWith(':ok'))
      .reduce((s, [, n]) => s + n, 0);
  };
  const databaseSize = async (): Promise<{ dbMiB: number | null; walMiB: number | null }> => {
    if (pgClient) {
      const r = await pgClient.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
      return { dbMiB: round(Number(r.rows[0]!.size) / 1024 / 1024), walMiB: null };
    }
    return {
      dbMiB: fileMiB(join(db!.dataDir, 'herald.db')),
      walMiB: fileMiB(join(db!.dataDir, 'herald.db-wal')),
    };
  };
  const takeSample = async (phase: Sample['phase']): Promise<Sample> => {
    const now = nowMs();
    const h = readProcess(herald!.pid);
    const text = await metrics();
    const pending = gaugeValue(text, 'herald_deliveries_pending');
    const oldestDueS = gaugeValue(text, 'herald_oldest_pending_age_seconds');
    if (oldestDueS !== null) maxOldestDueS = Math.max(maxOldestDueS, oldestDueS);
    const arrivedNow = await delivered();
    const seconds = (now - lastCounts.at) / 1000;
    const windowHealth = healthz;
    healthz = [];
    const sample: Sample = {
      atS: round(elapsedS()),
      phase,
      herald: h,
      receiver: readProcess(receiver!.pid),
      heraldCpuPercent:
        h.cpuTicks !== null && lastCpu.ticks !== null
          ? round((h.cpuTicks - lastCpu.ticks) / ((now - lastCpu.at) / 1000))
          : null,
      ...(await databaseSize()),
      pending,
      oldestDueS,
      acceptedPerSec: round((accepted.ids.length - lastCounts.accepted) / seconds),
      deliveredPerSec: round((arrivedNow - lastCounts.delivered) / seconds),
      healthzMeanMs: windowHealth.length
        ? round(windowHealth.reduce((s, x) => s + x, 0) / windowHealth.length, 2)
        : null,
      healthzMaxMs: windowHealth.length ? round(Math.max(...windowHealth), 1) : null,
      load1: loadAverage(),
      logBytes: herald!.process.output().length,
    };
    lastCpu = { at: now, ticks: h.cpuTicks };
    lastCounts = { at: now, accepted: accepted.ids.length, delivered: arrivedNow };
    samples.push(sample);
    log(formatSample(sample));
    return sample;
  };
  // The purger's first round at 30 s, and every sample, are watched through the metrics too.
  const stuckTimer = setInterval(async () => {
    const value = gaugeValue(await metrics(), 'herald_oldest_pending_age_seconds');
    if (value !== null) maxOldestDueS = Math.max(maxOldestDueS, value);
  }, 5_000);

  let sampling = Promise.resolve();
  const sampleTimer = setInterval(() => {
    sampling = sampling
      .then(() => takeSample('load').then(() => undefined))
      .catch((e: Error) => {
        unexpected.push(`sample: ${e.message}`);
      });
  }, options.sampleEvery * 1_000);

  let heraldExited: string | null = null;
  void herald.process.exited.then((exit) => {
    heraldExited = `code ${exit.code}, signal ${exit.signal}`;
  });

  await sleep(options.minutes * 60_000);

  // --- stop the load, drain, check ----------------------------------------------------------------
  loading = false;
  clearInterval(loadTimer);
  clearInterval(managementTimer);
  clearInterval(sampleTimer);
  await Promise.all([...batches]);
  await managing;
  await sampling;
  const loadEndS = elapsedS();
  log(`load stopped at ${clockLabel(loadEndS)}: ${accepted.ids.length} events accepted; draining`);
  // The failing endpoint may be on its way to being disabled again: enable nothing from here on.
  const drainDeadline = nowMs() + options.drainTimeout * 1_000;
  let drained = false;
  let pendingAtEnd: number | null = null;
  while (nowMs() < drainDeadline) {
    const text = await metrics();
    pendingAtEnd = gaugeValue(text, 'herald_deliveries_pending');
    const oldest = gaugeValue(text, 'herald_oldest_pending_age_seconds');
    if (oldest !== null) maxOldestDueS = Math.max(maxOldestDueS, oldest);
    if (pendingAtEnd === 0) {
      drained = true;
      break;
    }
    await sleep(1_000);
  }
  const drainS = elapsedS() - loadEndS;
  log(
    `drain: ${drained ? `done in ${round(drainS)} s` : `${pendingAtEnd} still pending after ${options.drainTimeout} s`}`,
  );
  await takeSample('drain');
  clearInterval(healthTimer);
  clearInterval(stuckTimer);

  const invariants: Invariant[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    invariants.push({ name, ok, detail });
    log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  };
  log('invariants:');
  check('herald ran throughout', heraldExited === null, heraldExited ?? `pid ${herald.pid} still running`);
  check(
    'every batch accepted',
    refused.length === 0 && accepted.ids.length > 0,
    `${accepted.ids.length} events in ${batchesSent} batches; ${refused.length} refused${refused.length ? `: ${refused.slice(0, 3).join(' | ')}` : ''}`,
  );
  check(
    'fan-out follows the filters',
    fanout.missing === 0 && fanout.unexpected === 0,
    `${fanout.missing} deliveries missing, ${fanout.unexpected} unexpected in the 202s${fanout.examples.length ? `: ${fanout.examples.join('; ')}` : ''}`,
  );
  check(
    'backlog drained, nothing stuck',
    drained && maxOldestDueS < LEASE_S,
    `pending ${pendingAtEnd} at the end (${drained ? `drained in ${round(drainS)} s` : 'not drained'}); longest a due delivery waited: ${round(maxOldestDueS)} s (a lease is ${LEASE_S} s)`,
  );

  // Every accepted event is listed, with the deliveries its 202 had.
  const listed = new Map<string, number | null>();
  let cursor: string | null = null;
  do {
    const page: { data: { id: string; deliveryCount: number | null }[]; nextCursor: string | null } =
      await json('GET', `${p}/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    for (const e of page.data) listed.set(e.id, e.deliveryCount);
    cursor = page.nextCursor;
  } while (cursor);
  const acceptedCounts = new Map(accepted.ids.map((id, i) => [id, deliveryCounts[i]!]));
  const listing = listingProblems(acceptedCounts, listed, testEvents);
  check(
    'every accepted event listed with its deliveries',
    listing.unlisted.length + listing.countDiffers.length + listing.unknown.length === 0,
    `${listed.size} listed (${testEvents.size} test sends); ${listing.unlisted.length} unlisted, ${listing.countDiffers.length} with another deliveryCount, ${listing.unknown.length} unknown${[
      ...listing.unlisted,
      ...listing.countDiffers,
      ...listing.unknown,
    ]
      .slice(0, 3)
      .map((id) => ` ${id}`)
      .join('')}`,
  );

  // Every delivery to an endpoint that answers arrived, or (flaky, slow) failed for good.
  const deliveryOf = async (eventId: string, endpoint: SoakEndpoint) => {
    const page = await json<{ data: { id: string; endpointId: string; status: string; attempts: number }[] }>(
      'GET',
      `${p}/events/${eventId}/deliveries?limit=50`,
    );
    return page.data.find((d) => d.endpointId === endpointIds.get(endpoint.key)) ?? null;
  };
  const arrivals: Record<
    string,
    { expected: number; arrived: number; missing: number; exhausted: number; bad: string[] }
  > = {};
  for (const endpoint of ENDPOINTS) {
    if (endpoint.kind === 'failing') continue;
    const ids = await receiver.ids(endpoint.key);
    const missing = missingArrivals(accepted, endpoint, ids);
    const expected = accepted.types.filter((type) => takes(endpoint, EVENT_MIX[type]!.type)).length;
    const row = {
      expected,
      arrived: expected - missing.length,
      missing: missing.length,
      exhausted: 0,
      bad: [] as string[],
    };
    arrivals[endpoint.key] = row;
    if (endpoint.kind === 'healthy') {
      row.bad.push(...missing.slice(0, 5));
      continue;
    }
    // A flaky or slow delivery may have used up its schedule: it must say so (failed, every attempt made).
    for (const eventId of missing.slice(0, 3_000)) {
      const d = await deliveryOf(eventId, endpoint);
      const attempts = (endpoint.retrySchedule?.length ?? 0) + 1;
      if (d && d.status === 'failed' && d.attempts >= attempts) row.exhausted++;
      else if (row.bad.length < 5)
        row.bad.push(`${eventId}: ${d ? `${d.status} after ${d.attempts}` : 'no delivery'}`);
      else row.bad.push(eventId);
    }
    if (missing.length > 3_000) row.bad.push(`${missing.length - 3_000} more not looked up`);
  }
  check(
    'deliveries to answering endpoints arrived',
    Object.values(arrivals).every((r) => r.bad.length === 0),
    Object.entries(arrivals)
      .map(
        ([k, r]) =>
          `${k} ${r.arrived}/${r.expected}${r.exhausted ? ` (+${r.exhausted} exhausted)` : ''}${r.bad.length ? ` BAD ${r.bad.slice(0, 3).join(', ')}` : ''}`,
      )
      .join('; '),
  );

  // Attempt counts: the deliveries' `attempts` against the attempts listed, for a sample of events.
  const audit: string[] = [];
  let auditedDeliveries = 0;
  let auditedAttempts = 0;
  const picks = new Set<number>();
  for (
    let i = 0;
    picks.size < Math.min(options.auditSample, accepted.ids.length) && i < options.auditSample * 10;
    i++
  ) {
    picks.add(Math.floor(Math.random() * accepted.ids.length));
  }
  for (const i of picks) {
    const id = accepted.ids[i]!;
    const event = await json<{ deliveries: { id: string; attempts: number; status: string }[] }>(
      'GET',
      `${p}/events/${id}`,
    );
    const attempts: { deliveryId: string }[] = [];
    let next: string | null = null;
    do {
      const page: { data: { deliveryId: string }[]; nextCursor: string | null } = await json(
        'GET',
        `${p}/events/${id}/attempts?limit=1000${next ? `&cursor=${next}` : ''}`,
      );
      attempts.push(...page.data);
      next = page.nextCursor;
    } while (next);
    auditedDeliveries += event.deliveries.length;
    auditedAttempts += attempts.length;
    for (const problem of attemptCountProblems(event.deliveries, attempts)) {
      audit.push(`${id}/${problem.deliveryId}: says ${problem.says}, ${problem.listed} listed`);
    }
  }
  check(
    'attempt counts match the attempts listed',
    audit.length === 0,
    `${picks.size} events, ${auditedDeliveries} deliveries, ${auditedAttempts} attempts; ${audit.length} differ${audit.length ? `: ${audit.slice(0, 3).join('; ')}` : ''}`,
  );

  const finalMetrics = await metrics();
  const http5xx = counterSum(finalMetrics, 'herald_http_requests_total', /status_code="5\d\d"/);
  check(
    'no 5xx, no unexpected answer',
    serverErrors.length === 0 && unexpected.length === 0 && http5xx === 0,
    `${serverErrors.length} 5xx and ${unexpected.length} unexpected answers seen; herald_http_requests_total 5xx ${http5xx}${[
      ...serverErrors,
      ...unexpected,
    ]
      .slice(0, 3)
      .map((l) => ` | ${l}`)
      .join('')}`,
  );

  const logLines = herald.process.logLines();
  const errorLines = logLines.filter((l) => Number(l.level) >= 50);
  const warnLines = logLines.filter((l) => Number(l.level) === 40);

  // --- summary ----------------------------------------------------------------------------------
  const loadSamples = samples.filter((s) => s.phase === 'load');
  const series = (pick: (s: Sample) => number | null) =>
    loadSamples.map((s) => ({ atS: s.atS, value: pick(s) }));
  const trends = {
    heraldRssMiB: trend(
      series((s) => s.herald.rssMiB),
      options.warmup,
    ),
    heraldFds: trend(
      series((s) => s.herald.fds),
      options.warmup,
    ),
    receiverRssMiB: trend(
      series((s) => s.receiver.rssMiB),
      options.warmup,
    ),
    dbMiB: trend(
      series((s) => s.dbMiB),
      options.warmup,
    ),
    walMiB: trend(
      series((s) => s.walMiB),
      options.warmup,
    ),
    pending: trend(
      series((s) => s.pending),
      options.warmup,
    ),
    healthzMaxMs: trend(
      series((s) => s.healthzMaxMs),
      options.warmup,
    ),
    load1: trend(
      series((s) => s.load1),
      options.warmup,
    ),
    heraldCpuPercent: trend(
      series((s) => s.heraldCpuPercent),
      options.warmup,
    ),
  };
  const mean = (pick: (s: Sample) => number | null) => {
    const v = loadSamples.map(pick).filter((x): x is number => x !== null);
    return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length) : null;
  };
  const counts = await receiver.counts();
  log('');
  log('summary:');
  const t = (name: string, tr: ReturnType<typeof trend>, unit: string) =>
    log(
      `  ${name.padEnd(16)} first ${tr.first}${unit}  last ${tr.last}${unit}  max ${tr.max}${unit}  min ${tr.min}${unit}  slope ${tr.perMinute ?? '-'}${unit}/min`,
    );
  t('herald RSS', trends.heraldRssMiB, ' MiB');
  t('herald fds', trends.heraldFds, '');
  t('receiver RSS', trends.receiverRssMiB, ' MiB');
  t(options.store === 'sqlite' ? 'herald.db' : 'pg database', trends.dbMiB, ' MiB');
  if (options.store === 'sqlite') t('herald.db-wal', trends.walMiB, ' MiB');
  t('pending', trends.pending, '');
  t('healthz max', trends.healthzMaxMs, ' ms');
  t('herald CPU', trends.heraldCpuPercent, ' %');
  t('load (1 min)', trends.load1, '');
  log(
    `  rates (mean of samples under load): accepted ${mean((s) => s.acceptedPerSec)}/s, delivered ${mean((s) => s.deliveredPerSec)}/s at the receiver; ticks skipped (8 batches in flight): ${skippedTicks}`,
  );
  log(`  receiver requests: ${JSON.stringify(counts)}`);
  const lateAnswered = counts['slow:late-answered'] ?? 0;
  if (lateAnswered) {
    log(
      `  slow: ${lateAnswered} of ${counts['slow:late'] ?? 0} requests held past the 1 s timeout were still open at 1.5 s (Herald's deadline acted ≥ 0.5 s late)`,
    );
  }
  log(`  management calls: ${JSON.stringify(management)}; endpoints re-enabled: ${JSON.stringify(enables)}`);
  log(`  herald log: ${logLines.length} lines, ${warnLines.length} warn, ${errorLines.length} error`);
  for (const line of [...errorLines, ...warnLines].slice(0, 5))
    log(`    ${JSON.stringify(line).slice(0, 300)}`);
  const failed = invariants.filter((i) => !i.ok);
  log(
    failed.length
      ? `${failed.length} invariant(s) FAILED: ${failed.map((f) => f.name).join(', ')}`
      : 'every invariant held',
  );

  const result = {
    kind: 'soak',
    startedAt: new Date(performance.timeOrigin).toISOString(),
    machine: describeMachine(ROOT, '/usr/bin/redis-server'),
    options,
    endpoints: ENDPOINTS,
    eventsAccepted: accepted.ids.length,
    testEvents: testEvents.size,
    drain: { drained, seconds: round(drainS), pendingAtEnd },
    maxOldestDueS,
    trends,
    samples,
    arrivals,
    receiverCounts: counts,
    management,
    enables,
    herald: {
      pid: herald.pid,
      logLines: logLines.length,
      warn: warnLines.length,
      error: errorLines.length,
      firstProblems: [...errorLines, ...warnLines].slice(0, 20),
    },
    invariants,
  };
  const out =
    options.out ??
    join(ROOT, 'bench/results', `soak-${result.startedAt.replaceAll(':', '-').replace('.', '-')}.json`);
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`results: ${out}`);
  return failed.length ? 1 : 0;
}

function formatSample(s: Sample): string {
  const mib = (v: number | null) => (v === null ? '-' : `${v}`);
  return [
    `[${clockLabel(s.atS).padStart(5)}]`,
    `rss ${mib(s.herald.rssMiB)} MiB`,
    `fds ${s.herald.fds ?? '-'}`,
    `cpu ${s.heraldCpuPercent ?? '-'} %`,
    s.walMiB === null && options.store === 'postgres'
      ? `pg ${mib(s.dbMiB)} MiB`
      : `db ${mib(s.dbMiB)} wal ${mib(s.walMiB)} MiB`,
    `pending ${s.pending ?? '-'}`,
    `due-wait ${s.oldestDueS === null ? '-' : round(s.oldestDueS)} s`,
    `accepted ${s.acceptedPerSec}/s`,
    `delivered ${s.deliveredPerSec}/s`,
    `healthz ${s.healthzMeanMs ?? '-'}/${s.healthzMaxMs ?? '-'} ms`,
    `receiver ${mib(s.receiver.rssMiB)} MiB`,
    `load ${s.load1 ?? '-'}`,
  ].join('  ');
}

async function cleanUp(): Promise<void> {
  await pgClient?.end().catch(() => undefined);
  await pool?.close().catch(() => undefined);
  await herald?.stop().catch(() => undefined);
  await receiver?.close().catch(() => undefined);
  if (db?.kind === 'postgres') await stopPostgres().catch(() => undefined);
  db?.dispose();
}

process.once('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130));
});

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error);
} finally {
  await cleanUp();
}
process.exit(code);
