/** When the dashboard holds Retry / Resend back (src/dashboard/app/retry-block.ts): the API's 409s. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Endpoint } from '../../src/dashboard/app/api/types.ts';
import { retryBlock, staleAfterRefusal } from '../../src/dashboard/app/retry-block.ts';

const endpoint = (status: 'active' | 'disabled') => ({ id: 'ep_1', status }) as Endpoint;

describe('retry block', () => {
  test('a delivery of an active endpoint, or a callback, not being sent can be retried', () => {
    assert.equal(retryBlock({ endpointId: 'ep_1', inFlight: false }, endpoint('active')), null);
    assert.equal(retryBlock({ endpointId: null, inFlight: false }, undefined), null);
    // Not read (yet, or the read failed): nothing is claimed about it, the API decides.
    assert.equal(retryBlock({ endpointId: 'ep_1', inFlight: false }, undefined), null);
  });

  test('a deleted endpoint (read as null) blocks it, whatever else holds', () => {
    assert.equal(retryBlock({ endpointId: 'ep_1', inFlight: false }, null), 'endpoint-deleted');
    assert.equal(retryBlock({ endpointId: 'ep_1', inFlight: true }, null), 'endpoint-deleted');
  });

  test('a disabled endpoint blocks it before an attempt in flight does', () => {
    assert.equal(
      retryBlock({ endpointId: 'ep_1', inFlight: false }, endpoint('disabled')),
      'endpoint-disabled',
    );
    assert.equal(
      retryBlock({ endpointId: 'ep_1', inFlight: true }, endpoint('disabled')),
      'endpoint-disabled',
    );
  });

  test('an attempt being sent blocks it, a callback delivery too', () => {
    assert.equal(retryBlock({ endpointId: 'ep_1', inFlight: true }, endpoint('active')), 'in-flight');
    assert.equal(retryBlock({ endpointId: 'ep_1', inFlight: true }, undefined), 'in-flight');
    assert.equal(retryBlock({ endpointId: null, inFlight: true }, undefined), 'in-flight');
  });

  test('a refusal says which of what the screen shows is out of date', () => {
    assert.equal(staleAfterRefusal('HERALD_ERR_ENDPOINT_DISABLED'), 'endpoint');
    assert.equal(staleAfterRefusal('HERALD_ERR_ENDPOINT_DELETED'), 'endpoint');
    assert.equal(staleAfterRefusal('HERALD_ERR_DELIVERY_IN_FLIGHT'), 'delivery');
    assert.equal(staleAfterRefusal('HERALD_ERR_NOT_FOUND'), null);
    assert.equal(staleAfterRefusal(undefined), null);
  });
});
