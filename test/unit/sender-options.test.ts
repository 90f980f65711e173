/**
 * The sender's options from the delivery settings (src/delivery/sender-options.ts). A pool holds a
 * connection per attempt an endpoint may have in flight, so HERALD_ENDPOINT_CONCURRENCY is what
 * reaches a receiver: test/delivery/sender.test.ts shows the pool's connections bound the requests
 * in flight at a real server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { senderOptions } from '../../src/delivery/sender-options.ts';

for (const value of ['8', '64', '200']) {
  test(`HERALD_ENDPOINT_CONCURRENCY=${value} gives each endpoint's pool ${value} connections`, () => {
    const config = loadConfig({
      env: { HERALD_ENDPOINT_CONCURRENCY: value, HERALD_ADMIN_TOKEN: 'x'.repeat(32) },
    });
    assert.equal(senderOptions(config.delivery, undefined).connectionsPerOrigin, Number(value));
  });
}
