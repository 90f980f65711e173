/**
 * What counts as a database a request may get past later, for the bounds pool.ts puts on
 * PostgreSQL calls: a session the server ended for idling in a transaction, a client pool.ts
 * closed after its query timed out, and a statement the server cancelled at statement_timeout.
 * (The errors' shapes are node-postgres's: a DatabaseError's SQLSTATE code, or a plain message.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeUnavailable } from '../../src/api/store-failure-answers.ts';
import { backlogReadLog } from '../../src/backlog-read-log.ts';
import { storeErrorLog } from '../../src/delivery/store-error-log.ts';
import {
  databaseReached,
  isDatabaseOutage,
  isStoreBusy,
  isStoreUnreachable,
  raisedConnecting,
  TOO_MANY_CONNECTIONS_LINE,
} from '../../src/store/store-unavailable.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

test('PostgreSQL bounds: an ended idle-in-transaction session and a closed client are unreachable, a cancelled statement busy', () => {
  assert.equal(
    isStoreUnreachable(pgError('25P03', 'terminating connection due to idle-in-transaction timeout')),
    true,
  );
  assert.equal(isStoreUnreachable(new Error('Client was closed and is not queryable')), true);
  assert.equal(isStoreBusy(pgError('57014', 'canceling statement due to statement timeout')), true);
  assert.equal(isStoreUnreachable(pgError('23505', 'duplicate key value')), false);
  assert.equal(isStoreBusy(pgError('23505', 'duplicate key value')), false);
});

test('too many clients (53300) is answered as the database unavailable, and said as a connection limit', () => {
  const answer = storeUnavailable(pgError('53300', 'sorry, too many clients already'), 'POST');
  assert.equal(answer?.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
  assert.equal(answer?.retryAfterS, 5);
  assert.match(answer?.message ?? '', /refused a new connection: it has as many clients as it allows/);
  assert.match(answer?.log.throttled ?? '', /max_connections/);
  // A database that is down is still said as such.
  const down = storeUnavailable(pgError('57P03', 'the database system is starting up'), 'POST');
  assert.equal(down?.message, 'the database cannot be reached; retry shortly');
});

test('too many clients (53300) and a standby (25006) are no outage; a database down or refusing log-ins is', () => {
  for (const error of [
    pgError('53300', 'sorry, too many clients already'),
    pgError('25006', 'cannot execute INSERT in a read-only transaction'),
    pgError('23505', 'duplicate key value'),
  ]) {
    assert.equal(isDatabaseOutage(error), false, error.message);
  }
  for (const error of [
    pgError('57P03', 'the database system is starting up'),
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('08006', 'connection failure'),
    pgError('28P01', 'password authentication failed'),
    pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
  ]) {
    assert.equal(isDatabaseOutage(error), true, error.message);
  }
});

test('the dispatcher and /metrics say too many clients as the API does, and count no outage for it', () => {
  const { logger, lines } = capturedLogger();
  const tooMany = pgError('53300', 'sorry, too many clients already');
  const dispatcherFailed = storeErrorLog(logger);
  dispatcherFailed(tooMany, 'claim');
  backlogReadLog(logger)(tooMany);
  databaseReached();
  assert.equal(
    lines[0]?.msg,
    `dispatcher: ${TOO_MANY_CONNECTIONS_LINE}; backing off and trying again (logged at most once per 10 s)`,
  );
  assert.equal(
    storeUnavailable(tooMany, 'POST')?.log.throttled,
    `${TOO_MANY_CONNECTIONS_LINE}: answering 503`,
  );
  assert.match(TOO_MANY_CONNECTIONS_LINE, /too many clients \(PostgreSQL max_connections/);
  assert.equal(
    lines[1]?.msg,
    `metrics: cannot read the delivery backlog: ${TOO_MANY_CONNECTIONS_LINE} (logged at most once per 10 s, with the number since)`,
  );
  assert.deepEqual(
    lines.filter((line) => /reached again/.test(String(line.msg))),
    [],
    'no "can be reached again" line: the database answered',
  );
});

test('a read-only database (25006, a standby) is answered as the database unavailable, and said as read-only', () => {
  const answer = storeUnavailable(
    pgError('25006', 'cannot execute INSERT in a read-only transaction'),
    'POST',
  );
  assert.equal(answer?.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
  assert.equal(answer?.retryAfterS, 5);
  assert.match(answer?.message ?? '', /read-only/);
  assert.match(answer?.log.throttled ?? '', /HERALD_DATABASE_URL leads to a standby/);
  assert.equal(isStoreUnreachable(pgError('25006', 'cannot execute LISTEN during recovery')), true);
});

test('a busy database is answered 503 HERALD_ERR_BUSY and logged throttled (once per 10 s, no stack), not once per request', () => {
  const answer = storeUnavailable(pgError('55P03', 'canceling statement due to lock timeout'), 'POST');
  assert.equal(answer?.code, 'HERALD_ERR_BUSY');
  assert.equal(answer?.log.throttled, 'the database is busy: answering 503');
});

test("SQLite's read-only database (SQLITE_READONLY, a real node:sqlite error) is answered as a database that takes no writes", async () => {
  const { DatabaseSync } = await import('node:sqlite');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'herald-read-only-'));
  try {
    const file = join(dir, 'ro.db');
    const writable = new DatabaseSync(file);
    writable.exec('CREATE TABLE t (x INTEGER)');
    writable.close();
    const readOnly = new DatabaseSync(file, { readOnly: true });
    let error: unknown;
    try {
      readOnly.exec('INSERT INTO t VALUES (1)');
    } catch (caught) {
      error = caught;
    } finally {
      readOnly.close();
    }
    assert.ok(error, 'the write was refused');
    const answer = storeUnavailable(error, 'POST');
    assert.equal(answer?.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
    assert.match(answer?.message ?? '', /read-only/);
    assert.equal(answer?.log.level, 'error');
    assert.match(answer?.log.throttled ?? '', /read-only/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write whose connection was lost once open may have been stored: details.stored "unknown"; one refused when connecting, and a read, stored nothing', () => {
  const lost = [
    new Error('Connection terminated unexpectedly'), // the COMMIT's answer cut
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    Object.assign(new Error('the database did not answer within 20 s'), { code: 'ETIMEDOUT' }),
    pgError('57P01', 'terminating connection due to administrator command'),
    // An open connection ended by an ICMP error it met (Linux reports it once keep-alive gives up).
    Object.assign(new Error('read EHOSTUNREACH'), { code: 'EHOSTUNREACH' }),
  ];
  for (const error of lost) {
    const answer = storeUnavailable(error, 'POST');
    assert.equal(answer?.code, 'HERALD_ERR_DATABASE_UNAVAILABLE', error.message);
    assert.deepEqual(answer?.details, { stored: 'unknown' }, error.message);
    assert.match(answer?.message ?? '', /may have been stored/);
    assert.equal(storeUnavailable(error, 'GET')?.details, undefined, `a read: ${error.message}`);
  }
  // As the pool's connect raises them (pool.ts marks what it raises so: raisedConnecting).
  const connecting = <E extends Error>(error: E): E => {
    raisedConnecting(error);
    return error;
  };
  const refused = [
    connecting(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    connecting(Object.assign(new Error('connect EHOSTUNREACH 192.0.2.5:5432'), { code: 'EHOSTUNREACH' })),
    Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }),
    new Error('timeout exceeded when trying to connect'),
    pgError('57P03', 'the database system is starting up'),
    pgError('28P01', 'password authentication failed for user "herald"'),
    connecting(
      new AggregateError([
        Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ]),
    ),
  ];
  for (const error of refused) {
    const answer = storeUnavailable(error, 'POST');
    assert.equal(answer?.code, 'HERALD_ERR_DATABASE_UNAVAILABLE', error.message);
    assert.equal(answer?.details, undefined, error.message);
  }
});

test('the database out of memory (53200) or of its own resources (53000) is a 503 HERALD_ERR_RESOURCES saying so', () => {
  for (const code of ['53200', '53000']) {
    const answer = storeUnavailable(pgError(code, 'out of memory'), 'POST');
    assert.equal(answer?.code, 'HERALD_ERR_RESOURCES', code);
    assert.match(answer?.message ?? '', /the database is out of memory/);
    assert.equal(answer?.retryAfterS, 5);
  }
  // A limit the request itself passes (53400) fails the same way again: no 503.
  assert.equal(storeUnavailable(pgError('53400', 'configuration limit exceeded'), 'POST'), null);
});
