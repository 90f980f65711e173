/**
 * The API over real HTTP (listen(0) on loopback) on a store the test opened, its log lines kept
 * (capturedLogger) and its metrics served: for tests of what a failing store's requests are
 * answered, logged and counted (store-full, store-io-error).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { Store } from '../../src/store/store.ts';
import { capturedLogger } from './captured-logger.ts';

const ADMIN = 'logged-http-api-admin-token-0123456789abcdef';

export async function startLoggedHttpApi(store: Store) {
  const { logger, lines } = capturedLogger();
  const metrics = createMetrics({ store, processMetrics: false });
  const app = buildApp({
    store,
    config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }),
    logger,
    metrics,
  });
  app.setReady(true);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  /** A request with the admin token. */
  const call = (method: string, path: string, body?: unknown) =>
    fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** herald_store_failures_total for `reason`, as /metrics says it now. */
  const storeFailures = async (reason: string) => {
    const text = await (await call('GET', '/metrics')).text();
    const match = text.match(new RegExp(`^herald_store_failures_total\\{reason="${reason}"\\} (\\d+)$`, 'm'));
    assert.ok(match, text);
    return Number(match[1]);
  };
  return { app, lines, call, storeFailures, close: () => app.close() };
}
