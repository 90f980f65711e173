/**
 * Each request's logger is built only when the request writes a line (lazy-request-logger.ts), and
 * a line it writes still carries its request id and is still redacted.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { openStore } from '../../src/store/open-store.ts';

const ADMIN = 'request-logger-admin-token-0123456789';

test('requests that log nothing build no child logger; one that fails logs with its reqId, redacted', async () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  const store = await openStore('sqlite::memory:');
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
  const app = buildApp({ store, config, logger });
  await app.ready();
  const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  try {
    const before = children;
    const created = await call('POST', '/api/v1/projects', { name: 'logs' });
    assert.equal(created.statusCode, 201, created.body);
    const project = created.json();
    const accepted = await call('POST', `/api/v1/projects/${project.id}/events`, {
      type: 'a.b',
      payload: {},
    });
    assert.equal(accepted.statusCode, 202, accepted.body);
    assert.equal((await call('GET', '/api/v1/nothing-here')).statusCode, 404);
    assert.equal(children - before, 0, 'a child logger was built for requests that wrote nothing');
    assert.equal(lines.length, 0, lines.join(''));

    // The store is gone: the request fails with a 500, and its line is written through its child.
    await store.close();
    const failed = await call('GET', `/api/v1/projects/${project.id}`);
    assert.equal(failed.statusCode, 500, failed.body);
    assert.equal(children - before, 1);
    const logged = lines.map((l) => JSON.parse(l));
    const line = logged.find((l) => String(l.msg).startsWith('unhandled error'));
    assert.ok(line, lines.join(''));
    assert.match(String(line.reqId), /^[0-9a-z]{8}-[0-9a-z]+$/);
    assert.ok(!lines.join('').includes(ADMIN), 'the token reached the log');
  } finally {
    await app.close();
    await store.close();
  }
});
