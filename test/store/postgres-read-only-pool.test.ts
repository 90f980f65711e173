/**
 * The pool's connections after the database URL led to a standby and leads to the primary again
 * (pool.ts sawReadOnly, connectWritable): a write finds no session the pool opened on the standby
 * once a write has gone through again, however deep in the pool such a session waited. A primary,
 * its streaming standby and a TCP proxy standing in for the name a failover moves.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createPool, transaction } from '../../src/store/postgres/pool.ts';
import { isStoreReadOnly } from '../../src/store/store-unavailable.ts';
import { startReplicatedPostgres } from '../support/postgres-standby.ts';

const pg = await startReplicatedPostgres();
after(() => pg.stop());

/** A write (temporary tables are refused on a standby, SQLSTATE 25006). */
const write = (pool: ReturnType<typeof createPool>) =>
  transaction(pool, (client) => client.query('CREATE TEMP TABLE IF NOT EXISTS w (n int)'));

test('a session opened on the standby after its last refusal, idle under newer ones, is not used for a write once writes go through again', async () => {
  const pool = createPool(await pg.createDatabase(), 5);
  await pg.caughtUp();
  try {
    pg.proxy.pointTo(pg.standby.port);
    await assert.rejects(write(pool), isStoreReadOnly);
    // Reads after that refusal open sessions on the standby (reads work there).
    const onStandby = [await pool.connect(), await pool.connect()];
    pg.proxy.pointTo(pg.primary.port);
    // A read after the switch back opens one on the primary, returned last: first in line (LIFO).
    const onPrimary = await pool.connect();
    for (const client of onStandby) client.release();
    onPrimary.release();
    await write(pool); // on the primary's session: writes go through again
    // Under more load the pool hands out the sessions below it: a write must not get the standby's.
    const busy = await pool.connect();
    try {
      await write(pool);
      await write(pool);
    } finally {
      busy.release();
    }
  } finally {
    await pool.end();
  }
});

test('a write begun on the primary before the refusal and committed after it does not stand for writes going through again', async () => {
  const pool = createPool(await pg.createDatabase(), 6);
  await pg.caughtUp();
  try {
    let finish = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let begun = () => {};
    const began = new Promise<void>((resolve) => {
      begun = resolve;
    });
    const before = transaction(pool, async (client) => {
      await client.query('CREATE TEMP TABLE IF NOT EXISTS w (n int)');
      begun();
      await finished;
    });
    await began;
    pg.proxy.pointTo(pg.standby.port);
    await assert.rejects(write(pool), isStoreReadOnly);
    const onStandby = [await pool.connect(), await pool.connect()];
    finish();
    await before; // commits on the primary, after the refusal
    const itsSession = await pool.connect(); // held, so that the next one is new
    pg.proxy.pointTo(pg.primary.port);
    const onPrimary = await pool.connect();
    for (const client of [itsSession, ...onStandby]) client.release();
    onPrimary.release();
    await write(pool);
    const busy = await pool.connect();
    try {
      await write(pool);
      await write(pool);
    } finally {
      busy.release();
    }
  } finally {
    await pool.end();
  }
});

test('a transaction that only read, committed on the standby after the refusal, does not stand for writes going through again', async () => {
  const pool = createPool(await pg.createDatabase(), 6);
  await pg.caughtUp();
  try {
    pg.proxy.pointTo(pg.standby.port);
    await assert.rejects(write(pool), isStoreReadOnly);
    // A transaction with nothing to write (a claim that found every endpoint left out) commits on
    // the standby, on a session begun after the refusal: it says nothing of writes going through.
    await transaction(pool, (client) => client.query('SELECT 1'));
    const onStandby = [await pool.connect(), await pool.connect(), await pool.connect()];
    pg.proxy.pointTo(pg.primary.port);
    const onPrimary = await pool.connect();
    for (const client of onStandby) client.release();
    onPrimary.release();
    await write(pool); // on the primary's session: writes go through again
    const busy = await pool.connect();
    try {
      await write(pool);
      await write(pool);
      await write(pool);
    } finally {
      busy.release();
    }
  } finally {
    await pool.end();
  }
});

test('a write outside a transaction (pool.query) finds no session opened on the standby once writes go through again', async () => {
  const pool = createPool(await pg.createDatabase(), 5);
  await pg.caughtUp();
  try {
    pg.proxy.pointTo(pg.standby.port);
    await assert.rejects(write(pool), isStoreReadOnly);
    const onStandby = [await pool.connect(), await pool.connect()];
    pg.proxy.pointTo(pg.primary.port);
    const onPrimary = await pool.connect();
    for (const client of onStandby) client.release();
    onPrimary.release();
    await write(pool); // writes go through again: the standby's sessions are stale
    // A one-statement write (creating a project, an endpoint, an API key) takes a session as
    // reads do: with the newest busy, the next in line is the standby's.
    const busy = await pool.connect();
    try {
      await pool.query('CREATE TEMP TABLE IF NOT EXISTS w (n int)');
      await pool.query('CREATE TEMP TABLE IF NOT EXISTS w (n int)');
    } finally {
      busy.release();
    }
  } finally {
    await pool.end();
  }
});

test('a one-statement write (pool.query) refused by the standby marks the pool: the sessions opened there before it are not used for a write', async () => {
  const pool = createPool(await pg.createDatabase(), 5);
  await pg.caughtUp();
  try {
    pg.proxy.pointTo(pg.standby.port);
    // Reads open sessions on the standby (reads work there) before any write is refused.
    const onStandby = [await pool.connect(), await pool.connect()];
    // The refusal comes from a one-statement write (creating a project, an endpoint, an API key),
    // on a session of its own: no transaction saw it.
    await assert.rejects(pool.query('CREATE TEMP TABLE IF NOT EXISTS w (n int)'), isStoreReadOnly);
    for (const client of onStandby) client.release();
    pg.proxy.pointTo(pg.primary.port);
    // The standby's sessions are first in line: each must be passed over, not refuse a write.
    await write(pool);
    await pool.query('CREATE TEMP TABLE IF NOT EXISTS w (n int)');
  } finally {
    await pool.end();
  }
});
