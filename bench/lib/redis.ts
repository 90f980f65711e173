/** A throwaway redis-server on a free loopback port, for the BullMQ baseline. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';

/** Every redis-server started and not yet stopped (see stopAllRedis). */
const running = new Set<RedisServer>();

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** The persistence settings it runs with, for the results. */
  readonly persistence: string;
  stop(): Promise<void>;
}

/**
 * `durable: false` (the default) is Redis as BullMQ is usually benchmarked: no RDB snapshots, no
 * append-only file, so nothing is written to disk. `durable: true` is the closest match to Herald's
 * promise (a 202 only after an fsync): AOF with `appendfsync always`.
 */
export async function startRedis(options: { durable?: boolean } = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `${REDIS_SERVER} not found: install the redis-server package (apt-get install redis-server)`,
    );
  }
  const port = await freePort();
  const persistence = options.durable
    ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no'];
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-redis-'));
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
  });
  child.stdout?.resume();
  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    pid: child.pid ?? -1,
    persistence: persistence.map((a) => (a === '' ? "''" : a)).join(' '),
    async stop() {
      running.delete(server);
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(server);
  return server;
}

/**
 * Stops every redis-server still running (a benchmark interrupted by a signal, or a scenario that
 * failed before its own clean-up): the ports of those it stopped.
 */
export async function stopAllRedis(): Promise<number[]> {
  const left = [...running];
  await Promise.all(left.map((r) => r.stop()));
  return left.map((r) => r.port);
}
