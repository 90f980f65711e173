/**
 * Which socket errors say that nothing reached the database (isConnectFailure, store-unavailable.ts):
 * the record queue and the API take such a write for "nothing stored". A connection that could not
 * be opened is one; an open connection that fails afterwards, whatever its code, may have sent a
 * COMMIT that went through. Linux reports an ICMP error met by an open connection (host or network
 * unreachable, a firewall's port-unreachable reject) as a soft error, and ends the connection with
 * it when keep-alive or retransmission gives up: EHOSTUNREACH or ECONNREFUSED on a socket that
 * had sent its COMMIT. A test cannot take a route away on loopback, so that ending is given to the
 * real socket of a real connection as the kernel gives it (destroy with the coded error).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createPool } from '../../src/store/postgres/pool.ts';
import { isConnectFailure, isStoreUnreachable } from '../../src/store/store-unavailable.ts';
import { withPostgres } from '../support/postgres.ts';
import { refusedPort } from '../support/refused-port.ts';

const server = await withPostgres();
after(() => server.stop());

test('a connection refused when it is opened is a connect failure: nothing was sent', async () => {
  const pool = createPool(`postgres://herald@127.0.0.1:${await refusedPort()}/herald`, 2);
  try {
    const error = await pool.query('SELECT 1').catch((e: unknown) => e);
    assert.equal((error as { code?: unknown }).code, 'ECONNREFUSED');
    assert.equal(isConnectFailure(error), true);
    const connecting = await pool.connect().catch((e: unknown) => e);
    assert.equal(isConnectFailure(connecting), true);
  } finally {
    await pool.end();
  }
});

for (const code of ['EHOSTUNREACH', 'ECONNREFUSED', 'ENETUNREACH']) {
  test(`an open connection that ends with ${code} while a statement runs is not a connect failure: it may have committed`, async () => {
    const pool = createPool(await server.createDatabase(), 2);
    try {
      const client = await pool.connect();
      const running = client.query('SELECT pg_sleep(0.5)').catch((e: unknown) => e);
      const socket = (client as unknown as { connection: { stream: { destroy(e: Error): void } } }).connection
        .stream;
      socket.destroy(Object.assign(new Error(`read ${code}`), { code, syscall: 'read' }));
      const error = await running;
      client.release(error as Error);
      assert.equal((error as { code?: unknown }).code, code);
      assert.equal(isStoreUnreachable(error), true);
      assert.equal(isConnectFailure(error), false, 'the statement, a COMMIT perhaps, had been sent');
    } finally {
      await pool.end();
    }
  });
}
