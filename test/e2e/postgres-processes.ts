/**
 * Several `herald serve` processes on one throwaway PostgreSQL, with one scripted receiver: the
 * fixture the multi-process e2e tests share. Call at a test file's top level; it registers the
 * before/after hooks that start and stop everything.
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
  let pg: LocalPostgres | undefined;
  let receiver: ScriptedReceiver | undefined;
  const processes: HeraldProcess[] = [];
  before(async () => {
    pg = await startPostgres();
    receiver = await startScriptedReceiver();
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.dispose()));
    await receiver?.close();
    await pg?.stop();
  });
  return {
    get pg() {
      if (!pg) throw new Error('PostgreSQL is not started yet (use it inside a test)');
      return pg;
    },
    get receiver() {
      if (!receiver) throw new Error('the receiver is not started yet (use it inside a test)');
      return receiver;
    },
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
        readyTimeoutMs: 30_000,
      });
      processes.push(p);
      return p;
    },
  };
}
