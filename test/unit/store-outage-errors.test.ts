/**
 * What a database outage costs besides the outage: the PostgreSQL group commit does not retry each
 * job of a failed batch alone when the database cannot be reached (which multiplied connection
 * attempts by the batch size), and the dispatcher logs such failures once per interval, without a
 * stack, instead of once per failed store call. Real pg errors from a loopback server that hangs
 * up on every connection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { leaseOverrun } from '../../src/delivery/in-flight-deliveries.ts';
import { storeErrorLog } from '../../src/delivery/store-error-log.ts';
import { GroupCommit } from '../../src/store/postgres/group-commit.ts';
import { storeFailureCounts } from '../../src/store/store-unavailable.ts';

let server: Server;
let connections = 0;
let url: string;

before(async () => {
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  url = `postgres://herald@127.0.0.1:${port}/herald`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A logger for storeErrorLog that keeps its lines. */
function collectingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const line = (level: string) => (fields: object, message: string) => {
    lines.push({ level, fields: { ...fields }, message });
  };
  return { lines, logger: { error: line('error'), warn: line('warn') } };
}

test('a group-commit batch that cannot reach the database fails as one: one connection attempt, not one per job', async () => {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  let ran = 0;
  const writes = new GroupCommit<number, number>(
    pool,
    async (_client, jobs) => {
      ran++;
      return jobs;
    },
    () => undefined,
  );
  connections = 0;
  const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((j) => writes.submit(j)));
  assert.ok(
    results.every((r) => r.status === 'rejected'),
    'every caller hears of it',
  );
  assert.equal(ran, 0);
  assert.equal(connections, 1, 'one batch, one connection attempt');
  await pool.end();
});

test('the dispatcher logs an unreachable database once per interval with the count between; another failure with its stack, then once per interval per kind', async () => {
  const client = new pg.Client({ connectionString: url });
  const unreachable = await client.connect().then(
    () => assert.fail('connected'),
    (error: unknown) => error,
  );
  const { lines, logger } = collectingLogger();
  let now = 1_000_000;
  const onError = storeErrorLog(logger, 10_000, () => now);
  for (let i = 0; i < 50; i++) onError(unreachable, i % 2 ? 'claim' : 'recordAttempts');
  now += 10_000;
  onError(unreachable, 'claim');
  // A bug (or a table renamed, a privilege revoked) fails every claim the same way, once a second
  // while it lasts: its first failure is a line with the stack, then one per interval per kind with
  // the count between, as the API's 500s (unhandled-error-log.ts); another kind has its own line.
  const bug = new TypeError('not a function');
  for (let i = 0; i < 30; i++) onError(bug, 'claim');
  const other = Object.assign(new Error('relation "deliveries" does not exist'), { code: '42P01' });
  onError(other, 'claim');
  now += 10_000;
  onError(bug, 'claim');
  assert.deepEqual(
    lines.map((l) => l.level),
    ['warn', 'warn', 'error', 'error', 'error'],
  );
  assert.equal(lines[0]!.fields.err, undefined, 'no stack for an outage');
  assert.equal(lines[0]!.fields.failedSinceLastLine, undefined);
  assert.equal(lines[1]!.fields.failedSinceLastLine, 49);
  assert.equal(lines[2]!.fields.err, bug, 'the first of a kind has its stack');
  assert.equal(lines[2]!.fields.failedSinceLastLine, undefined);
  assert.equal(lines[3]!.fields.err, other, 'another kind is logged at once');
  assert.equal(lines[4]!.fields.err, bug);
  assert.equal(lines[4]!.fields.failedSinceLastLine, 29, 'the failures held back in between');
});

test('what a stop left unfinished is one warn line without a stack', () => {
  const { lines, logger } = collectingLogger();
  storeErrorLog(logger)(
    new Error('3 attempts still in flight after the 10000 ms grace are not recorded'),
    'shutdown',
  );
  assert.deepEqual(lines, [
    {
      level: 'warn',
      fields: { during: 'shutdown' },
      message: 'dispatcher: 3 attempts still in flight after the 10000 ms grace are not recorded',
    },
  ]);
});

test('a claim of a delivery whose attempt was still out is a warn line without a stack, once per interval with the count between', () => {
  const { lines, logger } = collectingLogger();
  let now = 1_000_000;
  const onError = storeErrorLog(logger, 10_000, () => now);
  for (let i = 0; i < 5; i++) onError(leaseOverrun(`d${i}`), 'lease');
  now += 10_000;
  onError(leaseOverrun('d5'), 'lease');
  assert.deepEqual(
    lines.map((l) => [l.level, l.fields.err, l.fields.failedSinceLastLine]),
    [
      ['warn', undefined, undefined],
      ['warn', undefined, 4],
    ],
  );
  assert.match(
    lines[0]!.message,
    /^dispatcher: delivery d0 was claimed again while its attempt was still in flight/,
  );
  assert.match(lines[0]!.message, /HERALD_LEASE_MS/);
});

test('the dispatcher logs a busy database (records tried again) once per interval, without a stack, and counts each', async () => {
  // A real SQLITE_BUSY: another connection holds the write lock, and this one does not wait.
  const dir = mkdtempSync(join(tmpdir(), 'herald-busy-log-'));
  const holder = new DatabaseSync(join(dir, 'b.db'));
  const waiter = new DatabaseSync(join(dir, 'b.db'), { timeout: 0 });
  let busy: unknown;
  try {
    holder.exec('CREATE TABLE t (x); BEGIN IMMEDIATE');
    try {
      waiter.exec('BEGIN IMMEDIATE');
    } catch (error) {
      busy = error;
    }
  } finally {
    holder.close();
    waiter.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(busy, 'the second writer was refused');
  const { lines, logger } = collectingLogger();
  let now = 1_000_000;
  const before = storeFailureCounts().get('busy') ?? 0;
  const onError = storeErrorLog(logger, 10_000, () => now);
  for (let i = 0; i < 20; i++) onError(busy, 'recordAttempts (trying again)');
  now += 10_000;
  onError(busy, 'recordAttempts (trying again)');
  assert.deepEqual(
    lines.map((l) => l.level),
    ['warn', 'warn'],
  );
  assert.match(lines[0]!.message, /the database is busy/);
  assert.equal(lines[0]!.fields.err, undefined, 'no stack');
  assert.equal(lines[1]!.fields.failedSinceLastLine, 19);
  assert.equal((storeFailureCounts().get('busy') ?? 0) - before, 21);
});
