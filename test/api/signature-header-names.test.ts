/**
 * Signature and timestamp header names are refused, on create and PATCH, when the request or its
 * connection owns the header (the list custom headers may not use either): sent as `Connection` the
 * signature never reached the receiver while the attempt recorded it as sent; as
 * `Transfer-Encoding` every attempt failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { endpointInput } from '../store/helpers.ts';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

const OWNED = [
  'Connection',
  'Keep-Alive',
  'Proxy-Connection',
  'Upgrade',
  'Expect',
  'Transfer-Encoding',
  'TE',
  'Trailer',
  'Proxy-Authorization',
  'Content-Encoding',
  'Content-Type',
  'Content-Length',
  'Host',
  'User-Agent',
  'webhook-id',
  'Webhook-Test',
];

/** Each signature option that names a header, with a signature using it. */
const OPTIONS: [string, (name: string) => Record<string, string>][] = [
  ['signatureHeader', (name) => ({ scheme: 'hmac-sha256', signatureHeader: name })],
  ['timestampHeader', (name) => ({ scheme: 'hmac-sha256', timestampHeader: name })],
  ['signatureHeader', (name) => ({ scheme: 'hmac-sha1-url', signatureHeader: name })],
  ['signatureHeader', (name) => ({ scheme: 'github', signatureHeader: name })],
  ['signatureHeader', (name) => ({ scheme: 'stripe', signatureHeader: name })],
];

describe('signature header names', () => {
  let api: TestApi;
  let EP: string;
  let endpoint: Body;

  before(async () => {
    api = await startApi();
    const p = await api.project('signature-headers');
    EP = `/api/v1/projects/${p.id}/endpoints`;
    const created = await api.call('POST', EP, { url: 'https://hooks.example/in' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    endpoint = created.body;
  });
  after(() => api.close());

  test('a header the request or its connection owns → 422 naming the option, on create and PATCH', async () => {
    for (const name of OWNED) {
      for (const [option, signature] of OPTIONS) {
        const body = { url: 'https://hooks.example/in', signature: signature(name) };
        const field = `body.signature.${option}`;
        const what = JSON.stringify(body.signature);
        const created = await api.call('POST', EP, body);
        assert.match(
          assertError(created, 422, 'HERALD_ERR_UNPROCESSABLE', field).message,
          /cannot carry/,
          what,
        );
        const patched = await api.call('PATCH', `${EP}/${endpoint.id}`, { signature: signature(name) });
        assertError(patched, 422, 'HERALD_ERR_UNPROCESSABLE', field);
      }
    }
    const kept = await api.call('GET', `${EP}/${endpoint.id}`);
    assert.deepEqual(kept.body.signature, { scheme: 'standard' });
  });

  test('an endpoint stored with such a header before can still be disabled, renamed and moved', async () => {
    // Written straight to the store, as an older Herald's API had accepted it.
    const project = await api.project('legacy-header');
    const stored = await api.store.createEndpoint(
      endpointInput(project.id, {
        url: 'https://hooks.example/old',
        signature: { scheme: 'hmac-sha256', signatureHeader: 'Connection' },
      }),
      'plain-secret-value',
      Date.now(),
    );
    const path = `/api/v1/projects/${project.id}/endpoints/${stored.id}`;
    for (const body of [{ active: false }, { name: 'renamed' }, { url: 'https://hooks.example/new' }]) {
      const r = await api.call('PATCH', path, body);
      assert.equal(r.status, 200, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    }
    // Changing the signature is checked: still refused with the same header.
    const again = await api.call('PATCH', path, {
      signature: { scheme: 'hmac-sha256', signatureHeader: 'Connection' },
    });
    assertError(again, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.signature.signatureHeader');
  });

  test('other header names are still accepted', async () => {
    const r = await api.call('POST', EP, {
      url: 'https://hooks.example/in',
      signature: { scheme: 'hmac-sha256', signatureHeader: 'X-Sig', timestampHeader: 'X-Connection-Time' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
});
