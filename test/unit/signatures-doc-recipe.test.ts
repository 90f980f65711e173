/**
 * docs/signatures.md's `hmac-sha1-url` "By hand (Node)" recipe, run exactly as the page shows it
 * (read from the markdown), must compute the signature Herald sends: names above U+FFFF against
 * names from U+E000 to U+FFFF (code point order, not UTF-16 `<`), repeated names (by value).
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
