/**
 * An endpoint's custom headers in all (docs/api.md "Custom headers"): a set common receivers cannot
 * take is refused when it is saved, rather than sent to be answered 431 on every attempt (and the
 * endpoint disabled for it).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { LIMITS } from '../../src/api/schemas/common.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { post } from '../delivery/post-request.ts';
import { endpointInput } from '../store/helpers.ts';
import { assertError, startApi, type TestApi } from './helpers.ts';

/** Custom headers whose lines (`name: value` and CRLF) come to exactly `bytes`, values of at most 4096. */
function headersOf(bytes: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0, left = bytes; left > 0; i++) {
    const name = `x-h${i}`;
    const length = Math.min(LIMITS.headerValueLength, left - name.length - 4);
    headers[name] = 'v'.repeat(length);
    left -= name.length + 4 + length;
  }
  return headers;
}
const lineBytes = (headers: Record<string, string>) =>
  Object.entries(headers).reduce((n, [name, value]) => n + name.length + value.length + 4, 0);
const fourLongValues = Object.fromEntries([0, 1, 2, 3].map((i) => [`x-h${i}`, 'v'.repeat(4096)]));

let api: TestApi;
let EP: string;
before(async () => {
  api = await startApi();
  EP = `/api/v1/projects/${(await api.project('headers')).id}/endpoints`;
});
after(() => api.close());

describe('custom headers in all', () => {
  test('a set at the limit reaches a Node receiver with Herald’s own lines; four values of 4096 are answered 431', async (t) => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    t.after(async () => {
      await sender.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const request = post(url);
    // Room for what Herald sets itself: three signatures of a rotation, the timestamp, a test flag.
    const own = { 'webhook-signature': 'v1,'.padEnd(45 * 3 + 2, 'a'), 'webhook-timestamp': '1796680961' };
    const atLimit = await sender.send({
      ...request,
      headers: { ...request.headers, ...own, ...headersOf(LIMITS.headerBytes) },
    });
    assert.equal(atLimit.response?.status, 200, JSON.stringify(atLimit.error));
    const four = await sender.send({
      ...request,
      headers: { ...request.headers, ...own, ...fourLongValues },
    });
    assert.equal(four.response?.status, 431);
  });

  test('a create over the limit in all is 400 naming body.headers; at the limit it is taken', async () => {
    assert.equal(lineBytes(headersOf(LIMITS.headerBytes)), LIMITS.headerBytes);
    for (const headers of [headersOf(LIMITS.headerBytes + 1), fourLongValues]) {
      const error = assertError(
        await api.call('POST', EP, { url: 'https://a.example/hook', headers }),
        400,
        'HERALD_ERR_VALIDATION',
        'body.headers',
      );
      assert.match(
        error.message,
        new RegExp(
          `^body.headers: must come to at most ${LIMITS.headerBytes} bytes in all .*these come to ${lineBytes(headers)}\\)`,
        ),
      );
      assert.equal(error.details.limit, LIMITS.headerBytes);
    }
    const taken = await api.call('POST', EP, {
      url: 'https://a.example/hook',
      headers: headersOf(LIMITS.headerBytes),
    });
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
  });

  test('a PATCH over the limit is refused, but an endpoint stored with more may send its set back', async () => {
    const small = await api.call('POST', EP, { url: 'https://a.example/hook', headers: { 'x-a': 'b' } });
    assert.equal(small.status, 201);
    assertError(
      await api.call('PATCH', `${EP}/${small.body.id}`, { headers: fourLongValues }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.headers',
    );
    // Stored before the limit (written straight to the store, as an older Herald did).
    const projectId = EP.split('/')[4]!;
    const old = await api.store.createEndpoint(
      endpointInput(projectId, { url: 'https://a.example/hook', headers: fourLongValues }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    const back = await api.call('PATCH', `${EP}/${old.id}`, { name: 'renamed', headers: fourLongValues });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    const grown = { ...fourLongValues, 'x-more': 'v' };
    assertError(
      await api.call('PATCH', `${EP}/${old.id}`, { headers: grown }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.headers',
    );
  });
});
