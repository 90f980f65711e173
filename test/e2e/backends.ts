/**
 * The stores an e2e suite runs `herald serve` against, one after the other: SQLite, then a
 * throwaway PostgreSQL (optionally with extra `--role worker` processes beside `serve`). Call at a
 * test file's top level; the `after` hook it registers stops every process and the PostgreSQL.
 */
import { after } from 'node:test';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

export interface Backend {
  name: string;
  /** Starts Herald on this store and returns the `serve` process the suite calls. */
  start(): Promise<HeraldProcess>;
}

export function heraldBackends(
  env: Record<string, string>,
  options: { postgresWorkers?: number } = {},
): Backend[] {
  let pg: LocalPostgres | undefined;
  const processes: HeraldProcess[] = [];
  after(async () => {
    await Promise.all(processes.map((p) => p.dispose()));
    await pg?.stop();
  });
  const workers = options.postgresWorkers ?? 0;
  return [
    {
      name: 'sqlite',
      async start() {
        const herald = await startHerald({ env });
        processes.push(herald);
        return herald;
      },
    },
    {
      name: workers > 0 ? `postgres, ${workers + 1} processes` : 'postgres',
      async start() {
        pg = await startPostgres();
        const pgEnv = { ...env, HERALD_DATABASE_URL: await pg.createDatabase() };
        const herald = await startHerald({ env: pgEnv });
        processes.push(herald);
        for (let i = 0; i < workers; i++) {
          processes.push(await startHerald({ env: pgEnv, args: ['--role', 'worker'] }));
        }
        return herald;
      },
    },
  ];
}
