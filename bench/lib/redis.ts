/** A throwaway redis-server on a free loopback port, for the BullMQ baseline. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';

/** Every redis-server started and not yet stopped (see stopAllRedis). */
const running = new Set<RedisServer>();
/** Set by stopAllRedis({ final: true }) (an interrupt): no redis-server starts after it. */
let closed = false;

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
  // The benchmark is being interrupted: a scenario going on meanwhile (its next phase) would start
  // one the interrupt's clean-up has already passed, and leave it and its directory behind.
  if (closed) throw new Error('the benchmark is stopping: no redis-server is started');
  const persistence = options.durable
    ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no'];
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-redis-'));
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    pid: child.pid ?? -1,
    persistence: persistence.map((a) => (a === '' ? "''" : a)).join(' '),
    async stop() {
      running.delete(server);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Counted from its spawn, not once it is ready: an interrupt while it starts stops it too.
  running.add(server);
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
  }).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  child.stdout?.resume();
  return server;
}

/**
 * Stops every redis-server still running (a benchmark interrupted by a signal, or a scenario that
 * failed before its own clean-up): the ports of those it stopped. `final` (an interrupt): none is
 * started after it.
 */
export async function stopAllRedis(options: { final?: boolean } = {}): Promise<number[]> {
  if (options.final) closed = true;
  const left = [...running];
  await Promise.all(left.map((r) => r.stop()));
  return left.map((r) => r.port);
}
