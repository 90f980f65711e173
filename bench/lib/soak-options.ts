/** Command-line flags of `npm run soak`. */
import { parseArgs } from 'node:util';

export interface SoakOptions {
  store: 'sqlite' | 'postgres';
  /** How long load is offered. */
  minutes: number;
  /** Events per second offered through the batch API. */
  rate: number;
  /** Seconds between two sample lines. */
  sampleEvery: number;
  /** Samples before this many seconds are warm-up: the RSS trend starts after it. */
  warmup: number;
  /** Longest wait for the backlog to drain once the load stops, seconds. */
  drainTimeout: number;
  /** Events whose deliveries and attempts are read one by one at the end. */
  auditSample: number;
  /**
   * HERALD_PROJECT_CONCURRENCY (and HERALD_ENDPOINT_CONCURRENCY, at most this) when set: a cap low
   * enough that the soak's project reaches it, so its callbacks are held out of claims and let in.
   */
  projectCap: number | null;
  /** Every retry delay multiplied by this (`--smoke`: 0.1). */
  retryScale: number;
  out: string | null;
}

export const SOAK_USAGE = `usage: npm run soak -- [flags]
  --postgres            Herald on PostgreSQL (a throwaway PostgreSQL 15, as the bench's); default SQLite
  --minutes=N           how long to offer load (default 10; fractions allowed)
  --rate=N              events/s through the batch API (default 300)
  --sample-every=S      seconds between sample lines (default 30)
  --warmup=S            samples before this are warm-up for the RSS trend (default 60)
  --drain-timeout=S     longest wait for the backlog to drain at the end (default 120)
  --audit=N             events whose deliveries and attempts are compared one by one (default 300)
  --project-cap=N       HERALD_PROJECT_CONCURRENCY=N (and HERALD_ENDPOINT_CONCURRENCY at most N), so
                        the project reaches its cap (~20 at 150 events/s); default Herald's (768)
  --out=FILE            results JSON (default bench/results/soak-<timestamp>.json)
  --smoke               seconds, not minutes: 9 s at 150 events/s, retry delays a tenth as long,
                        30 events audited (test/soak/smoke.test.ts); other flags still apply`;

/** The options of `argv`; a flag unknown or out of range prints what is wrong and the usage, and exits 2. */
export function parseSoakOptions(argv: string[]): SoakOptions {
  try {
    return parseSoakFlags(argv);
  } catch (error) {
    console.error(`soak: ${(error as Error).message}\n${SOAK_USAGE}`);
    process.exit(2);
  }
}

function parseSoakFlags(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      postgres: { type: 'boolean' },
      minutes: { type: 'string' },
      rate: { type: 'string' },
      'sample-every': { type: 'string' },
      warmup: { type: 'string' },
      'drain-timeout': { type: 'string' },
      audit: { type: 'string' },
      'project-cap': { type: 'string' },
      out: { type: 'string' },
      smoke: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(SOAK_USAGE);
    process.exit(0);
  }
  const smoke = values.smoke ?? false;
  const minutes = positive('--minutes', values.minutes ?? (smoke ? '0.15' : '10'));
  const sampleEvery = positive(
    '--sample-every',
    values['sample-every'] ?? String(Math.min(30, minutes * 15)),
  );
  return {
    store: values.postgres ? 'postgres' : 'sqlite',
    minutes,
    rate: positive('--rate', values.rate ?? (smoke ? '150' : '300')),
    sampleEvery,
    warmup: nonNegative('--warmup', values.warmup ?? String(Math.min(60, minutes * 20))),
    drainTimeout: positive('--drain-timeout', values['drain-timeout'] ?? (smoke ? '30' : '120')),
    auditSample: nonNegative('--audit', values.audit ?? (smoke ? '30' : '300')),
    projectCap: values['project-cap'] === undefined ? null : positive('--project-cap', values['project-cap']),
    retryScale: smoke ? 0.1 : 1,
    out: values.out ?? null,
  };
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a number above 0, got "${value}"`);
  return n;
}

function nonNegative(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: expected a number from 0, got "${value}"`);
  return n;
}
