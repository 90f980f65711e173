/** Command-line flags of `npm run bench` and the sizes of each profile. */
import { parseArgs } from 'node:util';

export const SCENARIOS = [
  'throughput',
  'ingest',
  'latency',
  'fanout',
  'backlog',
  'isolation',
  'retention',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Profile {
  name: 'full' | 'quick' | 'smoke';
  /** Closed-loop phases: time before counting, and the counted window. */
  warmupMs: number;
  windowMs: number;
  /** Throughput: the three systems take turns this many times (median reported). */
  rounds: number;
  /** Closed loop: most deliveries accepted but not arrived; events per submission; submissions in flight. */
  bound: number;
  batch: number;
  parallel: number;
  /** Each ingest measurement. */
  ingestMs: number;
  /** Open-loop latency points: fixed rates, and shares of the measured Herald capacity. */
  latencyRates: number[];
  latencyShares: number[];
  latencyWindowMs: number;
  latencyWarmupMs: number;
  fanoutSizes: number[];
  fanoutRepeats: number;
  /** Pending deliveries for the backlog scenario, and the small backlog it is compared with. */
  backlog: number;
  backlogSmall: number | null;
  backlogWindowMs: number;
  /** Isolation: the hanging endpoint's timeout, and the phases. */
  isolationTimeoutMs: number;
  isolationWarmupMs: number;
  isolationWindowMs: number;
  /** Phases with the hanging endpoint, each between two without it. */
  isolationTurns: number;
  /** Retention: old events to purge (two deliveries each), and the live load offered meanwhile. */
  retentionEvents: number;
  retentionRate: number;
  /** Load before the round not counted (Herald just started), and load kept after its end. */
  retentionWarmupMs: number;
  retentionTailMs: number;
  /** The longest the live load runs waiting for the round to end. */
  retentionMaxMs: number;
  /**
   * HERALD_RETENTION_START_DELAY_MS: when the round starts after Herald; null = Herald's default
   * (30 s). Shorter in the smoke run, whose round is milliseconds and whose wait was most of it.
   */
  retentionStartDelayMs: number | null;
}

const FULL: Profile = {
  name: 'full',
  warmupMs: 3_000,
  windowMs: 8_000,
  rounds: 3,
  bound: 5_000,
  batch: 100,
  parallel: 2,
  ingestMs: 5_000,
  latencyRates: [1_000],
  latencyShares: [0.25, 0.5, 0.75, 0.9],
  latencyWindowMs: 10_000,
  latencyWarmupMs: 1_000,
  fanoutSizes: [1_000, 10_000],
  fanoutRepeats: 3,
  backlog: 1_000_000,
  backlogSmall: 10_000,
  backlogWindowMs: 15_000,
  isolationTimeoutMs: 5_000,
  isolationWarmupMs: 7_000,
  isolationWindowMs: 10_000,
  isolationTurns: 3,
  retentionEvents: 200_000,
  retentionRate: 200,
  retentionWarmupMs: 5_000,
  retentionTailMs: 10_000,
  retentionMaxMs: 900_000,
  retentionStartDelayMs: null,
};

const QUICK: Profile = {
  ...FULL,
  name: 'quick',
  warmupMs: 2_000,
  windowMs: 5_000,
  rounds: 1,
  ingestMs: 3_000,
  latencyShares: [0.5, 0.9],
  latencyWindowMs: 5_000,
  fanoutRepeats: 1,
  backlog: 100_000,
  backlogWindowMs: 8_000,
  isolationWindowMs: 5_000,
  isolationTurns: 1,
  retentionEvents: 50_000,
  retentionMaxMs: 600_000,
};

const SMOKE: Profile = {
  name: 'smoke',
  warmupMs: 300,
  windowMs: 700,
  rounds: 1,
  bound: 1_000,
  batch: 50,
  parallel: 2,
  ingestMs: 400,
  latencyRates: [500],
  latencyShares: [0.5],
  latencyWindowMs: 700,
  latencyWarmupMs: 200,
  fanoutSizes: [10, 100],
  fanoutRepeats: 1,
  backlog: 2_000,
  backlogSmall: null,
  backlogWindowMs: 700,
  isolationTimeoutMs: 300,
  isolationWarmupMs: 500,
  isolationWindowMs: 700,
  isolationTurns: 1,
  retentionEvents: 300,
  retentionRate: 50,
  retentionWarmupMs: 1_000,
  retentionTailMs: 2_000,
  retentionMaxMs: 80_000,
  retentionStartDelayMs: 3_000,
};

export interface BenchOptions {
  profile: Profile;
  scenarios: ScenarioName[];
  /** Herald on SQLite always; on PostgreSQL too with --postgres. */
  stores: ('sqlite' | 'postgres')[];
  /** In-flight requests towards the receiver, the same for every system. */
  concurrency: number;
  /** Redis with an fsync'd append-only file instead of no persistence. */
  bullmqDurable: boolean;
  out: string | null;
  chart: boolean;
  /** Before each scenario, wait up to this long for the machine to be nearly idle (0: don't). */
  quietWaitMs: number;
}

export const USAGE = `usage: npm run bench -- [flags]
  --smoke | --quick       tiny sizes (seconds) | smaller sizes (~3 min); default: the full run
  --postgres              also run Herald on PostgreSQL (a throwaway PostgreSQL 15)
  --only=a,b              scenarios: ${SCENARIOS.join(', ')}
  --duration=S            counted window of each closed-loop and latency phase, seconds
  --warmup=S              time before counting, seconds
  --rounds=N              throughput: how many times the systems take turns (full run: 3)
  --backlog=N             pending deliveries for the backlog scenario (full run: 1000000)
  --bound=N               closed loop: most deliveries accepted but not yet arrived
  --concurrency=N         in-flight requests to the receiver, every system (default 64)
  --bullmq-durable        Redis with appendonly yes + appendfsync always (default: no persistence)
  --out=FILE              results JSON (default bench/results/<timestamp>.json)
  --chart                 also render docs/performance-chart.png from the results
  --quiet-wait=S          before each scenario, wait up to S s for other load on the machine
                          to stop (default 120; 0 with --smoke)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean' },
      quick: { type: 'boolean' },
      postgres: { type: 'boolean' },
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      backlog: { type: 'string' },
      bound: { type: 'string' },
      concurrency: { type: 'string' },
      'bullmq-durable': { type: 'boolean' },
      out: { type: 'string' },
      chart: { type: 'boolean' },
      'quiet-wait': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const profile = { ...(values.smoke ? SMOKE : values.quick ? QUICK : FULL) };
  if (values.duration) profile.windowMs = profile.latencyWindowMs = seconds('--duration', values.duration);
  if (values.warmup) profile.warmupMs = seconds('--warmup', values.warmup);
  if (values.rounds) profile.rounds = integer('--rounds', values.rounds);
  if (values.backlog) profile.backlog = integer('--backlog', values.backlog);
  if (values.bound) profile.bound = integer('--bound', values.bound);
  const scenarios = values.only ? values.only.split(',').map((s) => s.trim()) : [...SCENARIOS];
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario "${s}"`);
  }
  return {
    profile,
    scenarios: scenarios as ScenarioName[],
    stores: values.postgres ? ['sqlite', 'postgres'] : ['sqlite'],
    concurrency: values.concurrency ? integer('--concurrency', values.concurrency) : 64,
    bullmqDurable: values['bullmq-durable'] ?? false,
    out: values.out ?? null,
    chart: values.chart ?? false,
    quietWaitMs:
      values['quiet-wait'] !== undefined ? seconds0(values['quiet-wait']) : values.smoke ? 0 : 120_000,
  };
}

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected seconds, got "${value}"`);
  return Math.round(n * 1000);
}

function seconds0(value: string): number {
  return value === '0' ? 0 : seconds('--quiet-wait', value);
}

function integer(flag: string, value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got "${value}"`);
  return n;
}
