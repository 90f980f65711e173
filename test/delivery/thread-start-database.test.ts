/**
 * A dispatcher thread whose own database connection cannot be made (PostgreSQL going down between
 * the process's start and its thread's, as a restart under a supervisor met): the start fails
 * naming the database and the setting, as the process's own connection does (main.ts), with the
 * password masked, not with a bare socket error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createThreadedDispatcher } from '../../src/delivery/threaded-dispatcher.ts';
import { refusedPort } from '../support/refused-port.ts';

test('a dispatcher thread that cannot reach the database says which one and which setting', async () => {
  const port = await refusedPort();
  const threaded = createThreadedDispatcher({
    init: {
      databaseUrl: `postgres://herald:s3cret-pw@127.0.0.1:${port}/herald`,
      dataDir: '/nonexistent',
      encryptionKey: null,
      previousEncryptionKeys: [],
      logLevel: 'silent',
      workerId: 'w-start-test',
      delivery: DEFAULT_DELIVERY,
    },
  });
  const error = await threaded.start().then(
    () => assert.fail('the thread started'),
    (e: Error) => e,
  );
  assert.match(
    error.message,
    new RegExp(
      `^dispatcher thread did not start: cannot reach the database at postgres://herald:\\*\\*\\*@127\\.0\\.0\\.1:${port}/herald \\(HERALD_DATABASE_URL, --database\\): .*ECONNREFUSED`,
    ),
  );
  assert.doesNotMatch(error.message, /s3cret-pw/);
});
