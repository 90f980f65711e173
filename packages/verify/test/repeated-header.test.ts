/**
 * A signature header that reaches the receiver twice (a proxy that adds its copy, a sender that
 * repeats it): Node's IncomingMessage, like fetch's Headers, joins the two values with ", ". The
 * schemes whose header lists several signatures (standard, stripe) take each signature of the joined
 * value; the one-signature ones refuse it (docs/signatures.md). A real server on loopback, written to
 * through a raw socket so that the header is sent twice.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { type SignatureScheme, sign, verify, WebhookVerificationError } from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const OTHER = 'whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=';
const content = { type: 'slot.submitted', data: { slotId: 's1' } };
const NOW = Date.now();

let received: (headers: IncomingHttpHeaders, distinct: Record<string, string[]>) => void = () => {};
const server = createServer((req, res) => {
  received(req.headers, req.headersDistinct as Record<string, string[]>);
  req.resume();
  res.end();
});
let port = 0;
before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
after(() => server.close());

/**
 * The headers Node hands a receiver for a request whose header `name` is sent once per value:
 * `req.headers` (repeated values joined), or with `distinct` `req.headersDistinct` (an array each).
 */
async function receivedWith(
  name: string,
  values: string[],
  rest: Record<string, string>,
  distinct = false,
): Promise<IncomingHttpHeaders | Record<string, string[]>> {
  const headers = new Promise<IncomingHttpHeaders | Record<string, string[]>>((resolve) => {
    received = (joined, each) => resolve(distinct ? each : joined);
  });
  const socket = connect(port, '127.0.0.1');
  const lines = [
    ...values.map((v) => `${name}: ${v}`),
    ...Object.entries(rest).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n${lines.join('\r\n')}\r\n\r\n`,
  );
  socket.resume();
  const got = await headers;
  socket.destroy();
  return got;
}

/** Signs `content` with `secret`, and the headers it makes apart from the signature header `name`. */
function signedWith(scheme: SignatureScheme, secret: string, name: string) {
  const request = sign({
    scheme,
    secret,
    id: 'evt_1',
    timestamp: Math.floor(NOW / 1000),
    url: 'https://receiver.example/hook',
    content,
  });
  const headers = request.headers as Record<string, string>;
  const { [name]: signature, ...rest } = headers;
  return { body: request.body ?? '', signature: signature ?? '', rest };
}

for (const [scheme, name] of [
  ['standard', 'webhook-signature'],
  ['stripe', 'stripe-signature'],
] as const) {
  test(`${scheme}: a ${name} sent twice is verified by either of its signatures, in either order`, async () => {
    const good = signedWith(scheme, SECRET, name);
    const other = signedWith(scheme, OTHER, name);
    for (const values of [
      [good.signature, other.signature],
      [other.signature, good.signature],
    ]) {
      const headers = await receivedWith(name, values, good.rest);
      assert.equal(headers[name], values.join(', '), 'Node joins the two');
      assert.deepEqual(verify({ scheme, payload: good.body, headers, secret: SECRET, now: NOW }), content);
      // Neither signature is of this secret: still refused.
      assert.throws(
        () => verify({ scheme, payload: good.body, headers, secret: `${SECRET.slice(0, -2)}0=`, now: NOW }),
        WebhookVerificationError,
      );
    }
  });
}

test('github: an X-Hub-Signature-256 sent twice is refused, as one header must carry one signature', async () => {
  const good = signedWith('github', 'a-github-secret', 'x-hub-signature-256');
  const headers = await receivedWith('x-hub-signature-256', [good.signature, good.signature], good.rest);
  assert.throws(
    () => verify({ scheme: 'github', payload: good.body, headers, secret: 'a-github-secret', now: NOW }),
    (error: unknown) =>
      error instanceof WebhookVerificationError && error.code === 'HERALD_VERIFY_BAD_SIGNATURE',
  );
});

// Node's `req.headersDistinct` (and any record a framework builds the same way) gives a repeated
// header as an array. Until 2026-12-06 only its first value was read: a standard or Stripe
// signature in the second was refused, and a one-signature header sent twice was accepted.
test('a repeated header given as an array is read as Node joins it', async () => {
  const good = signedWith('standard', SECRET, 'webhook-signature');
  const other = signedWith('standard', OTHER, 'webhook-signature');
  const values = [other.signature, good.signature];
  const headers = await receivedWith('webhook-signature', values, good.rest, true);
  assert.deepEqual(headers['webhook-signature'], values, 'an array, one value each');
  assert.deepEqual(
    verify({ scheme: 'standard', payload: good.body, headers, secret: SECRET, now: NOW }),
    content,
  );

  const hub = signedWith('github', 'a-github-secret', 'x-hub-signature-256');
  const twice = await receivedWith('x-hub-signature-256', [hub.signature, hub.signature], hub.rest, true);
  assert.throws(
    () =>
      verify({ scheme: 'github', payload: hub.body, headers: twice, secret: 'a-github-secret', now: NOW }),
    (error: unknown) =>
      error instanceof WebhookVerificationError && error.code === 'HERALD_VERIFY_BAD_SIGNATURE',
  );
});
