/**
 * What a JSON body's bytes may be: UTF-8 only (a body that is not, or one labelled with another
 * charset, is refused rather than decoded into U+FFFD and stored), and not content-encoded.
 * A real server on listen(0) over SQLite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { ADMIN, type Body, startApi, type TestApi } from './helpers.ts';

describe('request body bytes', () => {
  let api: TestApi;
  let base: string;
  let projectId: string;
  before(async () => {
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(api.app.server.address() as { port: number }).port}`;
    projectId = (await api.project('bytes')).id;
  });
  after(() => api.close());

  async function send(body: Buffer | string, headers: Record<string, string> = {}, path = 'events') {
    const r = await fetch(`${base}/api/v1/projects/${projectId}/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: r.status, body: (await r.json()) as Body };
  }
  const storedTypes = async () =>
    (await api.store.listEvents(projectId, { limit: 1000, cursor: null })).data.map((e) => e.type);

  test('bytes that are not UTF-8: 400 HERALD_ERR_MALFORMED_JSON naming body, nothing stored', async () => {
    const before = (await storedTypes()).length;
    for (const bytes of [
      Buffer.concat([Buffer.from('{"type":"t'), Buffer.from([0xff, 0xfe]), Buffer.from('","payload":{}}')]),
      Buffer.from('{"type":"caf\xe9","payload":{}}', 'latin1'), // Latin-1 sent as if UTF-8
      Buffer.concat([
        Buffer.from('{"type":"a","payload":{"s":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}}'),
      ]), // a surrogate
    ]) {
      const r = await send(bytes);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'HERALD_ERR_MALFORMED_JSON');
      assert.equal(r.body.error.details.field, 'body');
      assert.match(r.body.error.message, /UTF-8/);
    }
    const batch = await send(
      Buffer.concat([
        Buffer.from('{"events":[{"type":"t\u00e9'),
        Buffer.from([0xc3]),
        Buffer.from('","payload":{}}]}'),
      ]),
      {},
      'events/batch',
    );
    assert.equal(batch.status, 400, JSON.stringify(batch.body));
    assert.equal((await storedTypes()).length, before);
  });

  test('a charset other than utf-8 is 415 naming headers.content-type; utf-8 in any spelling is taken', async () => {
    const body = Buffer.from('{"type":"caf\xe9","payload":{}}', 'latin1');
    for (const contentType of [
      'application/json; charset=latin1',
      'application/json; charset="ISO-8859-1"',
      'application/json;charset=utf-16',
    ]) {
      const r = await send(body, { 'content-type': contentType });
      assert.equal(r.status, 415, `${contentType}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE');
      assert.equal(r.body.error.details.field, 'headers.content-type');
    }
    for (const contentType of [
      'application/json; charset=utf-8',
      'application/json; charset="UTF-8"',
      'application/json;CHARSET=Utf-8',
      'application/json',
    ]) {
      const r = await send('{"type":"caf\u00e9.ok","payload":{"s":"\u20ac"}}', {
        'content-type': contentType,
      });
      assert.equal(r.status, 202, `${contentType}: ${JSON.stringify(r.body)}`);
    }
    assert.ok((await storedTypes()).includes('caf\u00e9.ok'));
    assert.ok(!(await storedTypes()).some((t) => t.includes('\uFFFD')));
  });
  test('a Content-Encoding other than identity is 415 naming headers.content-encoding; nothing is decompressed', async () => {
    const before = (await storedTypes()).length;
    const json = '{"type":"zipped","payload":{}}';
    for (const [encoding, body] of [
      ['gzip', gzipSync(json)],
      ['br', brotliCompressSync(json)],
      ['br', Buffer.from(json)], // labelled compressed, sent plain
      ['deflate', Buffer.from(json)],
      ['GZIP', gzipSync(json)],
      ['identity, gzip', gzipSync(json)],
    ] as const) {
      const r = await send(body, { 'content-encoding': encoding });
      assert.equal(r.status, 415, `${encoding}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE');
      assert.equal(r.body.error.details.field, 'headers.content-encoding');
    }
    assert.equal((await storedTypes()).length, before);
    for (const encoding of ['identity', 'Identity']) {
      const r = await send(`{"type":"plain.${encoding}","payload":{}}`, { 'content-encoding': encoding });
      assert.equal(r.status, 202, `${encoding}: ${JSON.stringify(r.body)}`);
    }
  });
});
