/**
 * docs/signatures.md's "By hand" recipes, run exactly as the page shows them (read from the
 * markdown), must verify what Herald sends. `hmac-sha1-url` (Node): names above U+FFFF against
 * names from U+E000 to U+FFFF (code point order, not UTF-16 `<`), repeated names (by value).
 * `standard` (Node): every secret of a rotation. `sha256-body` (the GamePush recipe): the hex
 * digest, and a non-ASCII payload decoded with the page's `atob`.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { compileFunction } from 'node:vm';
import fc from 'fast-check';
import { nodeHash, parseForm, schemeByName, verify } from '../../packages/verify/src/index.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import type { Envelope, HeraldEvent, Json } from '../../src/domain/types.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/signatures.md'), 'utf8');
const PROJECT_ID = '5f3a2b1c9d8e7f6a5b4c3d2e';

/** The code of the first js block after "By hand (Node):" in the section headed `### \`<scheme>\``. */
function recipe(scheme: string): string {
  const start = DOC.indexOf(`\n### \`${scheme}\``);
  assert.ok(start >= 0, `no section for ${scheme}`);
  const end = DOC.indexOf('\n#', start + 1);
  const section = DOC.slice(start, end === -1 ? undefined : end);
  const code = /By hand \(Node\):\n\n```js\n([\s\S]*?)\n```/.exec(section)?.[1];
  assert.ok(code, `no "By hand (Node)" js block in the ${scheme} section`);
  return code;
}

/**
 * The recipe as a function of what it reads (`req`, `rawBody`, `projectId`, and `createHmac`
 * imported from node:crypto), returning its `expected`; Node's globals are in scope.
 */
const recipeFunction = compileFunction(`${recipe('hmac-sha1-url')}\nreturn expected;`, [
  'req',
  'rawBody',
  'projectId',
  'createHmac',
]) as (req: unknown, rawBody: string, projectId: string, hmac: typeof createHmac) => string;

/** What the recipe computes for a request to `url` with `rawBody`. */
function runRecipe(url: string, rawBody: string, projectId = PROJECT_ID): string {
  const { host, pathname, search } = new URL(url);
  return recipeFunction({ headers: { host }, url: pathname + search }, rawBody, projectId, createHmac);
}

/** The request Herald sends for `payload` to an hmac-sha1-url endpoint keyed by the project id. */
function heraldSends(payload: Json, envelope: Envelope = 'raw') {
  const event: HeraldEvent = {
    id: 'evt_01m8vt01h3g09rzad4tgd0sbqv',
    projectId: 'prj_1',
    type: 'push.clicked',
    payload,
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: Date.parse('2024-06-10T06:00:00.000Z'),
  };
  const sent = buildRequest({
    event,
    url: 'https://receiver.example/ppg/webhook?source=herald',
    endpoint: {
      method: 'POST',
      headers: {},
      envelope,
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: PROJECT_ID },
    },
    secrets: [{ secret: 'whsec_unused_the_key_signs' }],
    now: Date.parse('2024-06-10T06:00:05.000Z'),
  });
  return { url: sent.url, body: sent.body ?? '', signature: sent.headers['x-ppg-signature'] ?? '' };
}

describe('docs/signatures.md hmac-sha1-url recipe', () => {
  test('gives the signature Herald sends when UTF-16 order and code point order differ', () => {
    // U+FF01 (one UTF-16 unit) sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D).
    const sent = heraldSends({ '！': 'a', '😀': 'b' });
    assert.equal(runRecipe(sent.url, sent.body), sent.signature);
    // What the recipe got wrong before: `<` puts 😀 first.
    const byUnits = [...new URLSearchParams(sent.body)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const wrong = createHmac('sha1', PROJECT_ID)
      .update(sent.url + byUnits.map(([n, v]) => n + v).join(''))
      .digest('base64');
    assert.notEqual(wrong, sent.signature);
  });

  test('gives the signature Herald sends for any payload and envelope', () => {
    const text = fc.string({ unit: 'binary', maxLength: 6 }); // every code point, lone surrogates too
    fc.assert(
      fc.property(
        fc.oneof(fc.dictionary(text, fc.oneof(text, fc.integer(), fc.constant(null))), text, fc.array(text)),
        fc.constantFrom<Envelope>('raw', 'standard', 'event-data'),
        (payload, envelope) => {
          const sent = heraldSends(payload as Json, envelope);
          assert.equal(runRecipe(sent.url, sent.body), sent.signature);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('sorts repeated names by value, as the SDK verifies them', () => {
    // Herald's own bodies never repeat a name (they are an object's keys); the rule still holds.
    const url = 'https://receiver.example/ppg/webhook';
    const rawBody = 'b=2&a=%F0%9F%98%80&a=%EF%BC%81&a=z&b=1';
    const signature = runRecipe(url, rawBody);
    const signed = schemeByName('hmac-sha1-url')!.sign({
      id: 'evt_1',
      timestamp: 0,
      body: rawBody,
      fields: parseForm(rawBody),
      url,
      secrets: [],
      options: { key: PROJECT_ID },
      hash: nodeHash,
    });
    assert.deepEqual(signed.headers, [['x-signature', signature]]);
    assert.deepEqual(
      verify({
        scheme: 'hmac-sha1-url',
        options: { key: PROJECT_ID },
        payload: rawBody,
        headers: { 'x-signature': signature },
        url,
      }),
      { a: 'z', b: '1' },
    );
  });
});

/** The code of the js block after `By hand (<label>` in the section headed `### \`<scheme>\``. */
function recipeAfter(scheme: string, label: string): string {
  const start = DOC.indexOf(`\n### \`${scheme}\``);
  assert.ok(start >= 0, `no section for ${scheme}`);
  const end = DOC.indexOf('\n#', start + 1);
  const section = DOC.slice(start, end === -1 ? undefined : end);
  const at = section.indexOf(`By hand (${label}`);
  assert.ok(at >= 0, `no "By hand (${label}" in the ${scheme} section`);
  const code = /```js\n([\s\S]*?)\n```/.exec(section.slice(at))?.[1];
  assert.ok(code, `no js block after "By hand (${label}" in the ${scheme} section`);
  return code;
}

/** An event whose payload holds what base64 and UTF-8 handling get wrong: "Zoë", an emoji. */
const UNICODE_EVENT: HeraldEvent = {
  id: 'evt_01m8vt01h3g09rzad4tgd0sbqv',
  projectId: 'prj_1',
  type: 'player.joined',
  payload: { name: 'Zoë 🎮', tags: ['vip'], n: 1 },
  test: false,
  idempotencyKey: null,
  callbackUrl: null,
  createdAt: Date.parse('2024-06-10T06:00:00.000Z'),
};

describe('docs/signatures.md standard and GamePush recipes', () => {
  // const key = …; const expected = …; const ok = header.split(' ').some(…)
  const standardRecipe = compileFunction(`${recipeAfter('standard', 'Node):')}\nreturn ok;`, [
    'secret',
    'id',
    'ts',
    'rawBody',
    'header',
    'createHmac',
  ]) as (
    secret: string,
    id: string,
    ts: string,
    rawBody: string,
    header: string,
    hmac: typeof createHmac,
  ) => boolean;

  test('the standard recipe accepts what Herald sends, with each secret of a rotation, and refuses another secret', () => {
    const current = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const older = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
    const sent = buildRequest({
      event: UNICODE_EVENT,
      url: 'https://receiver.example/hooks',
      endpoint: { method: 'POST', headers: {}, envelope: 'standard', signature: { scheme: 'standard' } },
      secrets: [{ secret: current }, { secret: older }],
      now: Date.parse('2024-06-10T06:00:05.000Z'),
    });
    const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': header } = sent.headers;
    assert.ok(id && ts && header && sent.body, JSON.stringify(sent.headers));
    assert.equal(header.split(' ').length, 2, 'one signature per valid secret');
    for (const secret of [current, older]) {
      assert.equal(standardRecipe(secret, id, ts, sent.body, header, createHmac), true, secret);
    }
    const stranger = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    assert.equal(standardRecipe(stranger, id, ts, sent.body, header, createHmac), false);
  });

  // const [base64payload, signature] = body.split('.'); … if (hash !== signature) return res.send(…); const payload = …
  const gamePushRecipe = compileFunction(
    `${recipeAfter('sha256-body', 'the GamePush recipe')}\nreturn payload;`,
    ['body', 'secretKey', 'crypto', 'res'],
  ) as (body: string, secretKey: string, crypto: unknown, res: { send(text: string): unknown }) => unknown;
  const refused = { send: (text: string) => ({ refused: text }) };

  test("the GamePush recipe accepts what Herald sends and decodes its non-ASCII payload with the page's atob, and refuses another secret", async () => {
    const crypto = await import('node:crypto');
    const secret = 'gamepush-secret-key';
    const sent = buildRequest({
      event: UNICODE_EVENT,
      url: 'https://receiver.example/gamepush',
      endpoint: { method: 'POST', headers: {}, envelope: 'raw', signature: { scheme: 'sha256-body' } },
      secrets: [{ secret }],
      now: Date.parse('2024-06-10T06:00:05.000Z'),
    });
    assert.ok(sent.body);
    assert.deepEqual(gamePushRecipe(sent.body, secret, crypto, refused), UNICODE_EVENT.payload);
    assert.deepEqual(gamePushRecipe(sent.body, 'another-secret-key', crypto, refused), {
      refused: 'Bad request',
    });
  });
});
