/**
 * A PostgreSQL for tests. Uses HERALD_TEST_DATABASE_URL when set; otherwise starts a throwaway
 * PostgreSQL 15 (a copy of an initdb'd data directory, in memory: CLUSTER_PARENT; loopback only,
 * fsync off) and stops it at the end, so `npm test` needs no setup. Each test or suite gets its own
 * database from `createDatabase()`.
 *
 * initdb (~1-2 s of CPU, 5 s and more on a loaded machine) ran once per server, in each of some
 * 60 test files of a whole run, always with the same arguments and so making the same files. It
 * runs once per PostgreSQL build and OS user now, into a directory under the temp dir named for
 * them (`initdbTemplate()`), and each server starts on a `cp -a` of it (~0.1 s): no server runs on
 * the template, so each still starts on a fresh initdb's files.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.ts';
import { MEMORY_TEMP_DIR } from './memory-dir.ts';

const execFileAsync = promisify(execFile);
const BIN = process.env.HERALD_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** URL of the server's maintenance database (`postgres`). */
  url: string;
  /** Creates an empty database with a unique name and returns its URL. */
  createDatabase(): Promise<string>;
  /**
   * Stops a server this module started and removes its files; a no-op for an external one. An
   * immediate shutdown (SIGQUIT): the data goes with the files, so the shutdown checkpoint a fast one
   * writes first is work for nothing.
   */
  stop(): Promise<void>;
}

/** A server this module started: it can also be restarted (same port, same data). */
export interface LocalPostgres extends TestPostgres {
  port: number;
  /**
   * Stops the server, the data staying: `fast` (the default) cuts clients off and writes a
   * checkpoint, sending a standby all its WAL first; `immediate` (SIGQUIT) ends every process at
   * once, as a crash or a lost machine, and a standby keeps only the WAL streamed so far.
   */
  down(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port with the same data. */
  up(): Promise<void>;
  /** A standby (`standbyOf`) leaves recovery and becomes a primary (`pg_ctl promote`, waits for it). */
  promote(): Promise<void>;
}

/** The PostgreSQL for this test file: HERALD_TEST_DATABASE_URL, or a private server started here. */
export async function withPostgres(): Promise<TestPostgres> {
  const external = process.env.HERALD_TEST_DATABASE_URL;
  if (external) {
    return { url: external, createDatabase: () => createDatabaseOn(external), stop: async () => undefined };
  }
  return startPostgres();
}

/**
 * The file's PostgreSQL, started by the first test that asks for it (files whose PostgreSQL tests
 * are a few among SQLite ones start none when those are filtered out) and stopped after the file.
 * Call it at the file's top level.
 */
export function filePostgres(): () => Promise<TestPostgres> {
  let server: Promise<TestPostgres> | undefined;
  after(async () => {
    await (await server)?.stop();
  });
  return () => {
    server ??= withPostgres();
    return server;
  };
}

export interface StartPostgresOptions {
  /** Also accept TLS (`ssl=on`) with this certificate and key (PEM); plain connections stay allowed. */
  tls?: { cert: string; key: string };
  /** More `-c` settings, after (so over) the defaults here, e.g. `synchronous_commit: 'on'`. */
  settings?: Record<string, string>;
  /**
   * A streaming standby of the server on this loopback port (a LocalPostgres, or a proxy in front
   * of one) instead of a new cluster: its data is a `pg_basebackup -R` of it, so it replicates
   * through that port (replication connections are trusted on loopback by initdb's pg_hba.conf),
   * and starts read-only, in recovery, until `promote()`.
   */
  standbyOf?: { port: number };
  /**
   * Keep the server's files on the temp dir's disk rather than in memory (CLUSTER_PARENT): for the
   * benchmarks, whose PostgreSQL numbers stay comparable with those measured so.
   */
  onDisk?: boolean;
}

/**
 * Where a server's files go: in memory (MEMORY_TEMP_DIR, /dev/shm with 4 GiB free), the temp dir
 * otherwise. A server's files are thrown away with it, and deleting them from a disk is slow: each
 * of a database's ~300 files is a synchronous discard on this machine's ext4 (mounted `discard`,
 * ~5 ms a file), and postgres.test.ts's ~190 databases took about 2.5 min to delete at its end,
 * over a third of the file's wall time (337 s at a load of 12-19). They cost memory instead, while
 * the server runs: postgres.test.ts's still held 585 MB part way through their removal (20,669
 * files left), most files' a few databases of ~8 MB. The benchmarks keep theirs on disk (onDisk).
 */
const CLUSTER_PARENT = MEMORY_TEMP_DIR;

/** Starts a private PostgreSQL 15 on a free loopback port. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const dir = mkdtempSync(join(options.onDisk ? tmpdir() : CLUSTER_PARENT, 'herald-pg-'));
  const dataDir = join(dir, 'data');
  // PostgreSQL refuses to run as root: run it as the `postgres` OS user, which must own the files.
  const asUser = process.getuid?.() === 0 ? postgresUser() : null;
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const tlsSettings: string[] = [];
  if (options.tls) {
    // The server refuses a key file that others can read, or that it does not own.
    for (const [name, pem] of [
      ['server.crt', options.tls.cert],
      ['server.key', options.tls.key],
    ] as const) {
      writeFileSync(join(dir, name), pem, { mode: 0o600 });
      if (asUser) chownSync(join(dir, name), asUser.uid, asUser.gid);
    }
    tlsSettings.push(
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${join(dir, 'server.crt')}`,
      '-c',
      `ssl_key_file=${join(dir, 'server.key')}`,
    );
  }
  const spawnAs = asUser ? { uid: asUser.uid, gid: asUser.gid } : {};
  if (options.standbyOf) {
    // Not execFileSync: the port may be a proxy of this process, which must go on running.
    await execFileAsync(
      join(BIN, 'pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(options.standbyOf.port),
        '-U',
        'postgres',
        '-D',
        dataDir,
        '-R',
        '-X',
        'stream',
      ],
      { cwd: dir, ...spawnAs },
    );
  } else {
    // As the server's user, so the copy is its own and keeps the template's 0700.
    execFileSync('cp', ['-a', initdbTemplate(asUser), dataDir], { stdio: 'pipe', cwd: dir, ...spawnAs });
  }
  const settings = Object.entries(options.settings ?? {}).flatMap(([name, value]) => [
    '-c',
    `${name}=${value}`,
  ]);
  const port = await freePort();
  let child: ChildProcess | null = null;
  let log = '';

  const start = async () => {
    log = '';
    const proc = spawn(
      join(BIN, 'postgres'),
      [
        '-D',
        dataDir,
        '-k',
        dir,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
        ...tlsSettings,
        ...settings,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, ...spawnAs },
    );
    proc.stdout?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    proc.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    child = proc;
    await waitForConnections(`postgres://postgres@127.0.0.1:${port}/postgres`, proc, () => log);
  };
  const shutdown = async (mode: 'fast' | 'immediate' = 'fast') => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // SIGINT: fast shutdown, disconnects clients, no waiting for them; SIGQUIT: immediate.
    proc.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await exited;
  };
  // If the test process exits without calling stop(), do not leave a server behind.
  const onExit = () => {
    if (child && child.exitCode === null) child.kill('SIGQUIT');
  };
  process.once('exit', onExit);

  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    createDatabase: () => createDatabaseOn(url),
    down: shutdown,
    up: start,
    promote: async () => {
      execFileSync(join(BIN, 'pg_ctl'), ['promote', '-w', '-D', dataDir], {
        stdio: 'pipe',
        cwd: dir,
        ...spawnAs,
      });
    },
    stop: async () => {
      await shutdown('immediate');
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const INITDB_ARGS = ['-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'];

/**
 * The data directory initdb makes with INITDB_ARGS, made once per PostgreSQL build (the initdb and
 * postgres binaries' size and mtime) and OS user: under the temp dir, by the first process that
 * needs it. initdb writes into a directory of its own, renamed into place when complete, so another
 * process finds the whole template or none; when two make it at once, the later rename fails and
 * that one uses the first's.
 */
function initdbTemplate(asUser: { uid: number; gid: number } | null): string {
  const build = ['initdb', 'postgres'].map((bin) => {
    const s = statSync(join(BIN, bin));
    return `${join(BIN, bin)}:${s.size}:${s.mtimeMs}`;
  });
  const key = createHash('sha256')
    .update(JSON.stringify([build, INITDB_ARGS, asUser?.uid ?? process.getuid?.()]))
    .digest('hex')
    .slice(0, 16);
  const template = join(tmpdir(), `herald-pg-initdb-${key}`);
  try {
    if (statSync(join(template, 'global', 'pg_control')).isFile()) return template;
  } catch {
    // Not made yet.
  }
  const work = mkdtempSync(join(tmpdir(), 'herald-pg-initdb-work-'));
  try {
    const spawnAs = asUser ? { uid: asUser.uid, gid: asUser.gid } : {};
    if (asUser) chownSync(work, asUser.uid, asUser.gid);
    execFileSync(join(BIN, 'initdb'), ['-D', join(work, 'data'), ...INITDB_ARGS], {
      stdio: 'pipe',
      cwd: work,
      ...spawnAs,
    });
    try {
      renameSync(join(work, 'data'), template);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

async function createDatabaseOn(serverUrl: string): Promise<string> {
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

async function waitForConnections(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`postgres exited (${proc.exitCode}):\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections:\n${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
