/**
 * `npm run soak`: Herald under a steady, moderate, mixed load for minutes on end, watched for slow
 * leaks and stuck work rather than speed. One `herald serve` (SQLite, or PostgreSQL with
 * --postgres), one receiver process with healthy, flaky, failing and slow endpoints
 * (lib/soak-plan.ts), events through the batch API at a fixed rate (lib/soak-load.ts), the
 * management API used now and then (lib/soak-management.ts), and a sample line every ~30 s
 * (lib/soak-sampler.ts). Once the load stops and the backlog drains, it checks through the API and
 * the receiver that nothing was lost or stuck (lib/soak-invariants.ts), prints a summary and writes
 * a JSON result (lib/soak-report.ts); it exits 1 when an invariant fails.
 */
import { resolve } from 'node:path';
import pg from 'pg';
import { nowMs, sleep } from './lib/clock.ts';
import {
  createDatabase,
  type HeraldDatabase,
  launchHerald,
  type RunningHerald,
  stopPostgres,
} from './lib/herald-process.ts';
import { type SoakApi, soakApi } from './lib/soak-api.ts';
import { waitForDrain } from './lib/soak-drain.ts';
import { checkSoakInvariants } from './lib/soak-invariants.ts';
import { startSoakLoad } from './lib/soak-load.ts';
import { startSoakManagement } from './lib/soak-management.ts';
import { parseSoakOptions } from './lib/soak-options.ts';
import { CALLBACK_PATH, scaledEndpoints } from './lib/soak-plan.ts';
import { type SoakReceiver, startSoakReceiver } from './lib/soak-receiver-client.ts';
import { clockLabel, formatSample, reportSoak } from './lib/soak-report.ts';
import { round } from './lib/soak-sample.ts';
import { startSoakSampler } from './lib/soak-sampler.ts';
import { setUpSoakProject } from './lib/soak-setup.ts';

const ROOT = resolve(import.meta.dirname, '..');
const options = parseSoakOptions(process.argv.slice(2));
const ENDPOINTS = scaledEndpoints(options.retryScale);
const log = (message: string) => console.log(message);
const started = nowMs();
const elapsedS = () => (nowMs() - started) / 1000;

/** What cleanUp stops, set as each is started. */
const resources: {
  db: HeraldDatabase | null;
  herald: RunningHerald | null;
  receiver: SoakReceiver | null;
  api: SoakApi | null;
  pgClient: pg.Client | null;
} = { db: null, herald: null, receiver: null, api: null, pgClient: null };

async function main(): Promise<number> {
  log(
    `soak: ${options.store}, ${options.minutes} min at ${options.rate} events/s, a sample every ${options.sampleEvery} s${options.projectCap === null ? '' : `, project cap ${options.projectCap}`}`,
  );
  const db = await createDatabase(options.store);
  resources.db = db;
  const receiver = await startSoakReceiver();
  resources.receiver = receiver;
  const origins = [receiver.url, await receiver.extraOrigin()];
  const herald = await launchHerald(db, {
    env: {
      // Whole days is the finest retention there is: the purger runs (30 s after the start, then
      // every 10 min) but finds nothing old enough to delete during a soak.
      HERALD_RETENTION_DAYS: '1',
      ...(options.projectCap === null
        ? {}
        : {
            HERALD_PROJECT_CONCURRENCY: String(options.projectCap),
            HERALD_ENDPOINT_CONCURRENCY: String(Math.min(64, options.projectCap)),
          }),
    },
  });
  resources.herald = herald;
  log(`herald pid ${herald.pid} on ${herald.process.url}, receiver pid ${receiver.pid}`);
  const api = soakApi(herald.process.url);
  resources.api = api;
  let pgClient: pg.Client | null = null;
  if (db.kind === 'postgres') {
    pgClient = new pg.Client({ connectionString: db.url });
    resources.pgClient = pgClient;
    await pgClient.connect();
  }

  const project = await setUpSoakProject(api, ENDPOINTS, origins, options.retryScale);
  const load = startSoakLoad(api, project, ENDPOINTS, options.rate, `${receiver.url}${CALLBACK_PATH}`);
  const sampler = startSoakSampler(
    {
      api,
      herald,
      receiver,
      db,
      pgClient,
      accepted: load.accepted,
      elapsedS,
      onSample: (sample) => log(formatSample(sample, options.store)),
    },
    options.sampleEvery,
  );
  const management = startSoakManagement(api, project, load);
  let heraldExited: string | null = null;
  void herald.process.exited.then((exit) => {
    heraldExited = `code ${exit.code}, signal ${exit.signal}`;
  });

  await sleep(options.minutes * 60_000);

  // All three stop at once; then wait for what each has in flight.
  const stopping = [load.stop(), management.stop(), sampler.stopSampling()];
  await Promise.all(stopping);
  log(`load stopped at ${clockLabel(elapsedS())}: ${load.accepted.ids.length} events accepted; draining`);
  // The failing endpoint may be on its way to being disabled again: enable nothing from here on.
  const drain = await waitForDrain(api, options.drainTimeout, sampler.noteDueWait);
  log(
    `drain: ${drain.drained ? `done in ${round(drain.seconds)} s` : `${drain.pendingAtEnd} still pending after ${options.drainTimeout} s`}`,
  );
  await sampler.take('drain');
  sampler.stop();

  const { invariants, arrivals } = await checkSoakInvariants(
    {
      api,
      project,
      endpoints: ENDPOINTS,
      receiver,
      load,
      testEvents: management.testEvents,
      drain,
      maxOldestDueS: sampler.maxOldestDueS(),
      heraldExited,
      heraldPid: herald.pid,
      auditSample: options.auditSample,
    },
    log,
  );
  const failed = reportSoak(
    {
      options,
      endpoints: ENDPOINTS,
      herald,
      samples: sampler.samples,
      eventsAccepted: load.accepted.ids.length,
      skippedTicks: load.skippedTicks,
      testEvents: management.testEvents.size,
      drain,
      maxOldestDueS: sampler.maxOldestDueS(),
      arrivals,
      receiverCounts: await receiver.counts(),
      management: management.calls,
      enables: management.enables,
      invariants,
    },
    ROOT,
    log,
  );
  return failed ? 1 : 0;
}

async function cleanUp(): Promise<void> {
  const { db, herald, receiver, api, pgClient } = resources;
  await pgClient?.end().catch(() => undefined);
  await api?.close().catch(() => undefined);
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
