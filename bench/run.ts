/**
 * `npm run bench`: Herald, the raw undici ceiling and BullMQ + Redis, side by side, into one
 * counting receiver. Prints tables and writes the results as JSON (see README.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { killChildren } from './lib/child.ts';
import type { BenchContext } from './lib/context.ts';
import { waitForQuiet } from './lib/cpu.ts';
import { disposeStrayDatabases, settleDisk, stopPostgres, stopStrayHeralds } from './lib/herald-process.ts';
import { describeMachine } from './lib/machine.ts';
import { parseOptions, type ScenarioName } from './lib/options.ts';
import { startReceiver } from './lib/receiver-client.ts';
import { REDIS_SERVER, stopAllRedis } from './lib/redis.ts';
import type { Results } from './lib/results.ts';
import { printReport } from './report.ts';
import { backlog } from './scenarios/backlog.ts';
import { fanout } from './scenarios/fanout.ts';
import { ingest } from './scenarios/ingest.ts';
import { isolation } from './scenarios/isolation.ts';
import { latency } from './scenarios/latency.ts';
import { retention } from './scenarios/retention.ts';
import { throughput } from './scenarios/throughput.ts';
import { evaluateTargets } from './targets.ts';

const ROOT = resolve(import.meta.dirname, '..');

const RUNNERS: Record<ScenarioName, (ctx: BenchContext) => Promise<void>> = {
  throughput: async (ctx) => {
    ctx.results.throughput = await throughput(ctx);
  },
  ingest: async (ctx) => {
    ctx.results.ingest = await ingest(ctx);
  },
  latency: async (ctx) => {
    ctx.results.latency = await latency(ctx);
  },
  fanout: async (ctx) => {
    ctx.results.fanout = await fanout(ctx);
  },
  backlog: async (ctx) => {
    ctx.results.backlog = await backlog(ctx);
  },
  isolation: async (ctx) => {
    ctx.results.isolation = await isolation(ctx);
  },
  retention: async (ctx) => {
    ctx.results.retention = await retention(ctx);
  },
};

const options = parseOptions(process.argv.slice(2));
const { profile: _profile, ...rest } = options;
const started = new Date();
const results: Results = {
  version: 1,
  startedAt: started.toISOString(),
  finishedAt: '',
  profile: options.profile,
  options: rest,
  machine: describeMachine(ROOT, REDIS_SERVER),
  busyBefore: {},
  targets: [],
  errors: [],
};
const t0 = performance.now();
const log = (message: string) =>
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}`);

log(
  `herald bench (${options.profile.name}): ${options.scenarios.join(', ')} on ${options.stores.join(' + ')}; ` +
    `${results.machine.cores} cores, commit ${results.machine.commit}`,
);
const receiver = await startReceiver();
// Interrupted (Ctrl-C, kill, a cancelled CI job): the scenarios' own clean-up never runs, and the
// processes they started would go on loading the machine (Herald and redis-server do not notice
// that the benchmark is gone), so stop them here and leave no data directory behind.
// The run's own ending waits for this one (a scenario failing on a Herald killed here would end it).
let interrupted: Promise<void> | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted ??= (async () => {
      log(`${signal}: stopping the processes the benchmark started`);
      await Promise.allSettled([stopStrayHeralds(), stopAllRedis({ final: true }), receiver.close()]);
      await stopPostgres().catch(() => {});
      await killChildren(); // those still starting
      disposeStrayDatabases();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  });
}
const ctx: BenchContext = { options, receiver, results, log };
const runScenario = async (name: ScenarioName) => {
  // Not in a smoke run: its scenarios run at the same time.
  if (options.profile.name !== 'smoke') await settleDisk();
  if (options.quietWaitMs > 0) {
    const busy = await waitForQuiet(options.quietWaitMs);
    results.busyBefore[name] = busy;
    if (busy !== null && busy > 25)
      log(`${name}: the machine is still busy (${busy} % of a core used by others)`);
  }
  try {
    await RUNNERS[name](ctx);
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    results.errors.push({ scenario: name, message });
    log(`${name} FAILED: ${message}`);
  }
};
try {
  // A smoke run only checks that everything works: its scenarios run at the same time, so that it
  // takes seconds. Every measuring run takes them one at a time.
  if (options.profile.name === 'smoke') await Promise.all(options.scenarios.map(runScenario));
  else for (const name of options.scenarios) await runScenario(name);
} finally {
  const stray = await stopStrayHeralds();
  if (stray.length)
    log(`killed ${stray.length} Herald process(es) a failed scenario left running: ${stray.join(', ')}`);
  disposeStrayDatabases(); // of a scenario that failed before its own clean-up
  const redis = await stopAllRedis();
  if (redis.length) log(`stopped ${redis.length} redis-server(s) a failed scenario left running`);
  await receiver.close();
  await stopPostgres();
  if (interrupted) await interrupted;
}
results.finishedAt = new Date().toISOString();
results.targets = evaluateTargets(results);
console.log(printReport(results));

const out = options.out
  ? resolve(options.out)
  : join(ROOT, 'bench/results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
log(`results written to ${out}`);
if (options.chart) {
  const { renderChart } = await import('./chart.ts');
  log(`chart written to ${await renderChart(results)}`);
}
process.exit(results.errors.length ? 1 : 0);
