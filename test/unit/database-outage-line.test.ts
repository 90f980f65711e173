/**
 * One database outage, one "reached again" line per thread: a worker whose dispatcher runs on the
 * main thread (HERALD_DELIVERY_THREAD=false, or a `:memory:` database) and that is scraped for
 * /metrics counts the dispatcher's failed store calls and the failed backlog reads, and until
 * 2026-12-07 each wrote its own line when the database was back, with its own length and count.
 * Real pg errors (a loopback server that hangs up on every connection), the process's own loggers
 * (captured), and the signal a pool gives when it opens a connection again (databaseReached).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { backlogReadLog } from '../../src/backlog-read-log.ts';
import { storeErrorLog } from '../../src/delivery/store-error-log.ts';
import { databaseReached } from '../../src/store/store-unavailable.ts';
import { capturedLogger } from '../support/captured-logger.ts';

let server: Server;
let unreachable: unknown;

before(async () => {
  server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new pg.Client({ connectionString: `postgres://herald@127.0.0.1:${port}/herald` });
  unreachable = await client.connect().then(
    () => assert.fail('connected'),
    (error: unknown) => error,
  );
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const BACK = /the database can be reached again/;

test('a worker scraped for metrics whose dispatcher runs on the main thread logs one line when the database is back, with both counts', () => {
  const { logger, lines } = capturedLogger();
  let now = 1_000_000;
  const dispatcherFailed = storeErrorLog(logger, 10_000, () => now);
  const readFailed = backlogReadLog(logger);
  for (let i = 0; i < 5; i++) dispatcherFailed(unreachable, 'claim');
  for (let i = 0; i < 3; i++) readFailed(unreachable);
  now += 12_000;
  databaseReached();
  const back = lines.filter((line) => BACK.test(String(line.msg)));
  assert.equal(back.length, 1, JSON.stringify(back));
  const [line] = back as [Record<string, unknown>];
  assert.equal(line.level, 30);
  assert.equal(
    line.msg,
    'the database can be reached again (it could not be for 12 s; meanwhile 5 store calls of the dispatcher failed and 3 reads of the delivery backlog (metrics) failed)',
  );
  assert.equal(line.outageMs, 12_000, 'from the first failure of either');
  assert.equal(line.failedCalls, 5);
  assert.equal(line.failedReads, 3);
  // The outage is over: the next connection opened is no line more.
  databaseReached();
  assert.equal(lines.filter((l) => BACK.test(String(l.msg))).length, 1);
});

test('an outage only one part saw keeps that part’s line', () => {
  const { logger, lines } = capturedLogger();
  const readFailed = backlogReadLog(logger);
  readFailed(unreachable);
  readFailed(unreachable);
  databaseReached();
  let now = 0;
  const dispatcherFailed = storeErrorLog(logger, 10_000, () => now);
  dispatcherFailed(unreachable, 'recordAttempts');
  now += 3_000;
  databaseReached();
  assert.deepEqual(
    lines.filter((line) => BACK.test(String(line.msg))).map((line) => line.msg),
    [
      'metrics: the database can be reached again (it could not be for 0 s; 2 reads of the delivery backlog failed meanwhile)',
      'dispatcher: the database can be reached again (it could not be for 3 s; 1 store call failed meanwhile)',
    ],
  );
});
