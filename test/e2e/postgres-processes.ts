/**
 * Several `herald serve` processes on one throwaway PostgreSQL, with one scripted receiver: the
 * fixture the multi-process e2e tests share. Call usePostgresProcesses at a test file's top level; it
 * registers the before/after hooks that start and stop everything (startPostgresProcesses: one
 * test's own).
 */
import { after, before } from 'node:test';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { type HeraldProcess, startHerald } from './harness.ts';
import { type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

export interface PostgresProcesses {
  /** The PostgreSQL server (available once `before` ran). */
  readonly pg: LocalPostgres;
  readonly receiver: ScriptedReceiver;
  /** Starts `herald serve --role <role>` on `databaseUrl` (with `env` on top); stopped after the file's tests. */
  start(databaseUrl: string, role: 'api' | 'worker', env?: Record<string, string>): Promise<HeraldProcess>;
}

export function usePostgresProcesses(token: string, env: Record<string, string> = {}): PostgresProcesses {
  let started: StartedPostgresProcesses | undefined;
  before(async () => {
    started = await startPostgresProcesses(token, env);
  });
  after(() => started?.stop());
  return {
    get pg() {
      if (!started) throw new Error('PostgreSQL is not started yet (use it inside a test)');
      return started.pg;
    },
    get receiver() {
      if (!started) throw new Error('the receiver is not started yet (use it inside a test)');
      return started.receiver;
    },
    start: (databaseUrl, role, processEnv) => {
      if (!started) throw new Error('PostgreSQL is not started yet (use it inside a test)');
      return started.start(databaseUrl, role, processEnv);
    },
  };
}

export interface StartedPostgresProcesses extends PostgresProcesses {
  /** Stops the processes started, then the receiver and PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * The same fixture for one test, started now: for tests that each stop and start their PostgreSQL
 * and so can run beside one another only on servers of their own.
 */
export async function startPostgresProcesses(
  token: string,
  env: Record<string, string> = {},
): Promise<StartedPostgresProcesses> {
  const pg = await startPostgres();
  const receiver = await startScriptedReceiver().catch(async (error: unknown) => {
    await pg.stop();
    throw error;
  });
  const processes: HeraldProcess[] = [];
  return {
    pg,
    receiver,
    async start(databaseUrl, role, processEnv = {}) {
      const p = await startHerald({
        env: {
          HERALD_ADMIN_TOKEN: token,
          HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
          HERALD_DATABASE_URL: databaseUrl,
          ...env,
          ...processEnv,
        },
        args: ['--role', role],
      });
      processes.push(p);
      return p;
    },
    async stop() {
      await Promise.all(processes.map((p) => p.dispose()));
      await receiver.close();
      await pg.stop();
    },
  };
}
