/**
 * A primary PostgreSQL with a streaming standby of it, both on loopback, and a TCP proxy in front
 * standing in for what a failover moves (a DNS name, a virtual IP, a pgbouncer): what a test of a
 * failover points Herald at.
 */
import pg from 'pg';
import { type LocalPostgres, startPostgres } from './postgres.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface ReplicatedPostgres {
  primary: LocalPostgres;
  /** In recovery (read-only) until `standby.promote()`. */
  standby: LocalPostgres;
  /** Points at the primary at first. */
  proxy: TcpProxy;
  /** The standby's replication connection to the primary passes through this (stall() it to make it lag). */
  replication: TcpProxy;
  /** A new database, made on the primary (and streamed to the standby), as a URL through the proxy. */
  createDatabase(): Promise<string>;
  /** Resolves once the standby has replayed everything the primary wrote so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** `settings`: the primary's (e.g. synchronous_standby_names); the standby's are the defaults. */
export async function startReplicatedPostgres(
  settings: Record<string, string> = {},
): Promise<ReplicatedPostgres> {
  // synchronous_commit on (the test server's default is off): the primary's commits are flushed
  // before they are acknowledged, and with synchronous_standby_names the standby's flush too.
  const primary = await startPostgres({ settings: { synchronous_commit: 'on', ...settings } });
  const replication = await startTcpProxy(primary.port);
  const standby = await startPostgres({ standbyOf: replication });
  const proxy = await startTcpProxy(primary.port);
  const query = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql)).rows[0] as Record<string, unknown>;
    } finally {
      await client.end();
    }
  };
  return {
    primary,
    standby,
    proxy,
    replication,
    async createDatabase() {
      const url = new URL(await primary.createDatabase());
      url.port = String(proxy.port);
      return url.href;
    },
    async caughtUp() {
      const { lsn } = await query(primary.url, 'SELECT pg_current_wal_lsn()::text AS lsn');
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { behind } = await query(
          standby.url,
          `SELECT pg_last_wal_replay_lsn() < '${String(lsn)}'::pg_lsn AS behind`,
        );
        if (behind === false) return;
        if (Date.now() > deadline) throw new Error('the standby did not catch up within 10 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await proxy.close();
      await standby.stop();
      await replication.close();
      await primary.stop();
    },
  };
}
