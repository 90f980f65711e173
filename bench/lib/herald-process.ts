/**
 * Starts `herald serve` for a scenario: the real CLI as a child process (test/e2e/harness.ts), on
 * SQLite in a temporary directory or on a fresh database of a PostgreSQL started for the run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type HeraldProcess, startHerald } from '../../test/e2e/harness.ts';
import { type LocalPostgres, startPostgres } from '../../test/support/postgres.ts';
import { type HeraldApi, heraldApi } from './herald-api.ts';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export type StoreKind = 'sqlite' | 'postgres';

/** Where a Herald's data lives: reused by every process of one scenario (api, then worker). */
export interface HeraldDatabase {
  readonly kind: StoreKind;
  /** HERALD_DATABASE_URL (sqlite:… or postgres://…). */
  readonly url: string;
  readonly dataDir: string;
  dispose(): void;
}

export interface RunningHerald {
  readonly process: HeraldProcess;
  readonly api: HeraldApi;
  readonly pid: number;
  /** The last lines Herald logged (for a phase that delivered nothing). */
  outputTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Every Herald launched and not yet stopped (see stopStrayHeralds). */
const running = new Set<RunningHerald>();

/** One PostgreSQL for the run, started by the first scenario that needs it (scenarios may run at once). */
let postgres: Promise<LocalPostgres> | null = null;

/** Every data directory created and not yet disposed of (see disposeStrayDatabases). */
const databases = new Set<HeraldDatabase>();

/** A fresh, empty database for one scenario. */
export async function createDatabase(kind: StoreKind): Promise<HeraldDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const dispose = () => {
    databases.delete(db);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const db = await databaseAt(kind, dataDir, dispose);
  databases.add(db);
  return db;
}

async function databaseAt(kind: StoreKind, dataDir: string, dispose: () => void): Promise<HeraldDatabase> {
  if (kind === 'sqlite') return { kind, url: `sqlite:${dataDir}/herald.db`, dataDir, dispose };
  postgres ??= startPostgres({ onDisk: true });
  return { kind, url: await (await postgres).createDatabase(), dataDir, dispose };
}

/**
 * Deletes the data directories a benchmark interrupted by a signal left behind (a SQLite file of a
 * million pending deliveries is a gigabyte); their Heralds must have been stopped first.
 */
export function disposeStrayDatabases(): void {
  for (const db of [...databases]) db.dispose();
}

/**
 * Writes out what earlier scenarios left for the disk to do: a PostgreSQL checkpoint (the bench's
 * server keeps the dirty pages of every scenario before), then the kernel's dirty pages (`sync`).
 * Otherwise that writeback lands in the next scenario's window: the first latency point after the
 * ingest scenarios had a p99 of 60-160 ms, the points after it 5-8 ms.
 */
export async function settleDisk(): Promise<void> {
  const running = await postgres;
  if (running) {
    const client = new pg.Client({ connectionString: running.url });
    await client.connect();
    try {
      await client.query('CHECKPOINT');
    } finally {
      await client.end();
    }
  }
  await promisify(execFile)('sync');
}

export async function stopPostgres(): Promise<void> {
  const running = postgres;
  postgres = null;
  await (await running)?.stop();
}

export interface HeraldSettings {
  role?: 'all' | 'api' | 'worker';
  /** Extra HERALD_* settings. */
  env?: Record<string, string>;
}

export async function launchHerald(
  db: HeraldDatabase,
  settings: HeraldSettings = {},
): Promise<RunningHerald> {
  const child = await startHerald({
    dataDir: db.dataDir,
    args: ['--role', settings.role ?? 'all'],
    readyTimeoutMs: 60_000,
    env: {
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: db.url,
      // The ready line is logged at info; request logging is off, so info is quiet under load.
      HERALD_LOG_LEVEL: 'info',
      ...settings.env,
    },
  });
  const api = heraldApi(child.url, ADMIN_TOKEN);
  const herald: RunningHerald = {
    process: child,
    api,
    pid: child.pid,
    outputTail: (lines = 20) => child.output().trimEnd().split('\n').slice(-lines).join('\n'),
    async stop() {
      running.delete(herald);
      await api.close();
      const exit = await child.kill('SIGTERM');
      if (exit.code !== 0) {
        console.error(`herald (pid ${child.pid}) exited with ${exit.code ?? exit.signal}:`);
        console.error(child.output().slice(-4000));
      }
    },
  };
  running.add(herald);
  return herald;
}

/**
 * Kills the Herald processes a scenario left running (one that threw between a launch and its
 * stop), so that a failed run leaves no `herald serve` behind to load the machine. Returns their pids.
 */
export async function stopStrayHeralds(): Promise<number[]> {
  const stray = [...running];
  running.clear();
  await Promise.all(stray.map((h) => h.process.dispose()));
  return stray.map((h) => h.pid);
}
