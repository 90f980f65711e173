/**
 * No secret reaches the logs or an error message. A real `herald serve` at log level trace (more
 * than debug) goes through everything that handles a credential: the admin token, project API keys
 * (created, listed, revoked, used), endpoint secrets (generated, imported, rotated, used to sign
 * deliveries), portal links, the encryption key, the operator webhook secret; wrong tokens that
 * look real; an endpoint's custom Authorization header; event payloads; bad input carrying secrets; malformed HTTP carrying an Authorization header. Then:
 *
 * - none of those values, nor their base64, base64url, hex or URL-encoded forms, appears anywhere
 *   in the process's output (stdout and stderr), nor in any error response;
 * - API keys are shown once: the list does not return them, and the data directory holds only
 *   their SHA-256 (nor does it hold the admin token, portal tokens or endpoint secrets in clear).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';

const ADMIN = randomBytes(32).toString('base64url');
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const OPERATOR_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
/** A receiver's credential in an endpoint's custom headers, and a mark in every event payload. */
const HEADER_TOKEN = randomBytes(24).toString('base64url');
const PAYLOAD_MARK = `payload-${randomBytes(12).toString('hex')}`;
/** A receiver that takes its credential in the URL (a chat or automation service's webhook). */
const OPERATOR_URL_TOKEN = randomBytes(24).toString('base64url');

let herald: HeraldProcess;
let receiver: Receiver;
/** Every secret seen during the run, by what it is. */
const secrets = new Map<string, string>();
/** Every error response seen during the run: what was asked, and the answer (checked). */
const errorBodies: { request: string; answer: string }[] = [];

before(async () => {
  receiver = await startReceiver();
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_ENCRYPTION_KEY: ENCRYPTION_KEY,
      HERALD_OPERATOR_WEBHOOK_URL: `${receiver.url}/operator?token=${OPERATOR_URL_TOKEN}`,
      HERALD_OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
      HERALD_LOG_LEVEL: 'trace',
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_RETRY_SCHEDULE: '0.2,0.2',
      HERALD_FAILURE_THRESHOLD: '2',
    },
  });
  secrets.set('admin token', ADMIN);
  secrets.set('encryption key', ENCRYPTION_KEY);
  secrets.set('operator webhook secret', OPERATOR_SECRET);
  secrets.set('token in the operator webhook URL', OPERATOR_URL_TOKEN);
  secrets.set('custom header value', HEADER_TOKEN);
  secrets.set('event payload', PAYLOAD_MARK);
});
after(async () => {
  await herald?.dispose();
  await receiver?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read loosely in tests
type Json = any;

/** A request with any Authorization header; error bodies are kept for the final check. */
async function call(method: string, path: string, token: string | null, body?: unknown, raw?: string) {
  const response = await fetch(`${herald.url}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  if (response.status >= 400)
    errorBodies.push({ request: `${method} ${path}`, answer: `${response.status} ${text}` });
  return { status: response.status, text, json: (text ? JSON.parse(text) : null) as Json };
}

const admin = async (method: string, path: string, body?: unknown) => {
  const r = await call(method, path, ADMIN, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
};

/** Writes raw bytes and resolves with the answer (for requests fetch would refuse to send). */
function raw(request: string): Promise<string> {
  const { port } = new URL(herald.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      errorBodies.push({ request: 'raw HTTP', answer });
      resolve(answer);
    });
    socket.setTimeout(5_000, () => socket.destroy());
    socket.end(request);
  });
}

/** The forms a secret could leak in: as is, base64, base64url, hex, URL-encoded, and its parts. */
function formsOf(secret: string): string[] {
  const forms = new Set<string>([secret, encodeURIComponent(secret)]);
  const bytes = Buffer.from(secret, 'utf8');
  forms.add(bytes.toString('base64').replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  forms.add(bytes.toString('hex'));
  // The random part of prefixed secrets (hk_…, whsec_…, hpt_….…) and its decoded bytes.
  const body = secret.replace(/^(hk_|whsec_|hpt_)/, '');
  for (const part of [body, ...body.split('.')]) {
    if (part.length < 16) continue;
    forms.add(part);
    const decoded = Buffer.from(part, /[-_]/.test(part) ? 'base64url' : 'base64');
    if (decoded.length >= 16) {
      forms.add(decoded.toString('hex'));
      forms.add(decoded.toString('base64').replace(/=+$/, ''));
      forms.add(decoded.toString('base64url'));
    }
  }
  return [...forms].filter((f) => f.length >= 12);
}

test('no token, key or secret reaches the logs or an error message', async () => {
  // ── API keys: created, shown once, revoked ──
  const project = await admin('POST', '/api/v1/projects', { name: 'secrets', uid: 'secrets' });
  const P = `/api/v1/projects/${project.id}`;
  const created = await admin('POST', `${P}/api-keys`, { name: 'backend' });
  const key: string = created.key;
  assert.match(key, /^hk_/);
  secrets.set('project API key', key);
  const listed = await call('GET', `${P}/api-keys`, ADMIN);
  assert.equal(listed.status, 200);
  assert.ok(!listed.text.includes(key), 'the key list shows a key again');
  assert.ok(
    listed.json.data.every((k: Json) => !('key' in k)),
    'the key list has a key field',
  );
  assert.ok(!(await call('GET', P, key)).text.includes(key));
  const revoked = await admin('POST', `${P}/api-keys`, { name: 'revoked' });
  secrets.set('revoked API key', revoked.key);
  await admin('DELETE', `${P}/api-keys/${revoked.id}`);
  assert.equal((await call('GET', P, revoked.key)).status, 401);

  // ── endpoint secrets: generated, imported, rotated; deliveries signed with them ──
  const imported = `whsec_${randomBytes(32).toString('base64')}`;
  const plain = randomBytes(24).toString('hex');
  const urlToken = randomBytes(24).toString('base64url');
  const standard = await call('POST', `${P}/endpoints`, key, {
    url: `${receiver.url}/standard`,
    secret: imported,
    // A receiver's own credential, sent as a custom header with every delivery.
    headers: { Authorization: `Bearer ${HEADER_TOKEN}`, 'X-Receiver-Key': HEADER_TOKEN },
  });
  assert.equal(standard.status, 201, standard.text);
  secrets.set('imported endpoint secret', imported);
  const hmac = await call('POST', `${P}/endpoints`, key, {
    url: `${receiver.url}/hmac`,
    signature: { scheme: 'hmac-sha256' },
    secret: plain,
  });
  assert.equal(hmac.status, 201, hmac.text);
  secrets.set('imported plain secret', plain);
  const generated = await call('POST', `${P}/endpoints`, key, {
    url: `${receiver.url}/github`,
    signature: { scheme: 'github' },
  });
  assert.equal(generated.status, 201, generated.text);
  secrets.set('generated endpoint secret', generated.json.secret);
  // A receiver URL carrying a credential of its own, which answers 410 and gets disabled.
  const gone = await call('POST', `${P}/endpoints`, key, { url: `${receiver.url}/gone?token=${urlToken}` });
  assert.equal(gone.status, 201, gone.text);
  secrets.set('token in an endpoint URL', urlToken);
  secrets.set('its endpoint secret', gone.json.secret);

  const rotated = await call('POST', `${P}/endpoints/${standard.json.id}/secret/rotate`, key, {
    graceSeconds: 60,
  });
  assert.equal(rotated.status, 200, rotated.text);
  secrets.set('rotated endpoint secret', rotated.json.secret);
  const reimported = `whsec_${randomBytes(32).toString('base64')}`;
  const rotatedTo = await call('POST', `${P}/endpoints/${standard.json.id}/secret/rotate`, key, {
    secret: reimported,
  });
  assert.equal(rotatedTo.status, 200, rotatedTo.text);
  secrets.set('imported-by-rotation secret', reimported);

  receiver.respondWith(200, '{"ok":true}');
  for (let i = 0; i < 3; i++) {
    const sent = await call('POST', `${P}/events`, key, {
      type: 'secret.test',
      payload: { i, PAYLOAD_MARK },
    });
    assert.equal(sent.status, 202, sent.text);
  }
  await receiver.waitFor(12, 15_000); // 3 events × 4 endpoints
  // They went through the whole delivery path: the header and the payload reached the receiver.
  const standardHits = receiver.requests.filter((r) => r.url === '/standard');
  assert.ok(
    standardHits.length >= 3 && standardHits.every((r) => r.headers['x-receiver-key'] === HEADER_TOKEN),
  );
  assert.ok(standardHits.every((r) => r.headers.authorization === `Bearer ${HEADER_TOKEN}`));
  assert.ok(standardHits.every((r) => r.body.includes(PAYLOAD_MARK)));
  // The last endpoint now fails: 410 disables it (a log line about it).
  receiver.respondWith(410, 'gone');
  await call('POST', `${P}/events`, key, { type: 'secret.test', payload: { last: true } });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ep = await call('GET', `${P}/endpoints/${gone.json.id}`, key);
    if (ep.json.status === 'disabled') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await call('GET', `${P}/endpoints/${gone.json.id}`, key)).json.status, 'disabled');

  // ── portal links ──
  const link = await call('POST', `${P}/portal-links`, key, { expiresIn: 600 });
  assert.equal(link.status, 201, link.text);
  const portal: string = link.json.token;
  secrets.set('portal token', portal);
  assert.equal((await call('GET', `${P}/endpoints`, portal)).status, 200);
  assert.equal((await call('POST', `${P}/events`, portal, { type: 't', payload: 1 })).status, 403);
  assert.equal((await call('POST', `${P}/portal-links`, portal, {})).status, 403);

  // ── wrong tokens that look real ──
  const lookalikes = {
    'a made-up API key': `hk_${randomBytes(32).toString('base64url')}`,
    'a forged portal token': `hpt_${Buffer.from(JSON.stringify({ projectId: project.id, exp: 4_102_444_800 })).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
    'the admin token, one character off': `${ADMIN.slice(0, -1)}${ADMIN.endsWith('A') ? 'B' : 'A'}`,
    'a random admin-like token': randomBytes(32).toString('base64url'),
  };
  for (const [what, token] of Object.entries(lookalikes)) {
    secrets.set(what, token);
    for (const path of [P, '/api/v1/projects', `${P}/endpoints/${standard.json.id}/secret`]) {
      assert.equal((await call('GET', path, token)).status, 401);
    }
  }

  // ── bad input that carries secrets ──
  const badSecret = `whsec_${randomBytes(30).toString('hex')}!`;
  secrets.set('a rejected secret', badSecret);
  const bad: [string, string, unknown][] = [
    ['POST', `${P}/endpoints`, { url: `${receiver.url}/x`, secret: badSecret }],
    ['POST', `${P}/endpoints/${standard.json.id}/secret/rotate`, { secret: badSecret }],
    [
      'POST',
      `${P}/endpoints/${standard.json.id}/secret/rotate`,
      { secret: `${badSecret}${'x'.repeat(1100)}` },
    ],
    ['PATCH', `${P}/endpoints/${standard.json.id}`, { secret: imported }],
    [
      'POST',
      `${P}/endpoints`,
      { url: `${receiver.url}/x`, signature: { scheme: 'hmac-sha256' }, secret: `${plain}\u0001` },
    ],
    ['POST', `${P}/events`, { type: 't', payload: 1, apiKey: key, token: ADMIN }],
    ['POST', '/api/v1/projects', { name: 'x', adminToken: ADMIN }],
    ['PATCH', `${P}/endpoints/${standard.json.id}`, { url: `ftp://${ADMIN}@example.com/` }],
  ];
  for (const [method, path, body] of bad) {
    const r = await call(method, path, key, body);
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status} ${r.text}`);
  }
  // Malformed JSON around a secret, a secret in the query string, a secret as a path parameter.
  await call('POST', `${P}/events`, key, undefined, `{"type":"t","payload":"${ADMIN}"`);
  await call('POST', `${P}/events`, key, undefined, `{"type":"t","payload":"${ADMIN}", "__proto__": {}}`);
  await call('GET', `/api/v1/projects?token=${ADMIN}&cursor=${key}`, ADMIN);
  await call('GET', `/api/v1/projects/${key}`, ADMIN);
  await call('GET', `${P}/endpoints/${imported}`, key);

  // ── malformed HTTP carrying credentials: Node's parse errors hold the raw request bytes ──
  const answers = [
    await raw(
      `GET ${P} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    ),
    await raw(`GET ${P} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nbroken header line\r\n\r\n`),
    await raw(
      `POST ${P}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ),
  ];
  assert.deepEqual(
    answers.map((a) => a.slice(0, 12)),
    ['HTTP/1.1 431', 'HTTP/1.1 400', 'HTTP/1.1 400'],
  );

  // Let the dispatcher's last lines (retries, the disabled endpoint) be written, then stop.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const exit = await herald.kill('SIGTERM');
  assert.equal(exit.code, 0, herald.output().slice(-2000));

  // ── the checks ──
  const output = herald.output();
  assert.ok(output.includes('herald ready on'), 'the output was captured');
  assert.ok(herald.logLines().length > 3, 'log lines were captured');
  for (const [what, secret] of secrets) {
    for (const form of formsOf(secret)) {
      const at = output.indexOf(form);
      assert.equal(
        at,
        -1,
        `the ${what} appears in the output: …${output.slice(Math.max(0, at - 200), at + 50)}`,
      );
      for (const { request, answer } of errorBodies) {
        assert.ok(
          !answer.includes(form),
          `the ${what} appears in the error answering ${request}: ${answer.slice(0, 300)}`,
        );
      }
    }
  }
  assert.ok(errorBodies.length >= 20, `only ${errorBodies.length} error responses were checked`);

  // At rest: API keys only as their SHA-256; no admin token, portal token or endpoint secret in clear.
  const files = filesUnder(herald.dataDir);
  assert.ok(
    files.some((f) => f.endsWith('herald.db')),
    `no database in ${files.join(', ')}`,
  );
  const stored = Buffer.concat(files.map((f) => readFileSync(f))).toString('latin1');
  const keyHash = createHash('sha256').update(key).digest('hex');
  assert.ok(stored.includes(keyHash), 'the API key hash is stored');
  for (const [what, secret] of secrets) {
    // The URLs are stored: they are where deliveries go.
    // So are custom headers and payloads: they are what deliveries send.
    const sent = [
      'token in an endpoint URL',
      'token in the operator webhook URL',
      'custom header value',
      'event payload',
    ];
    if (sent.includes(what)) continue;
    for (const form of formsOf(secret)) {
      assert.ok(!stored.includes(form), `the ${what} is stored in clear in ${herald.dataDir}`);
    }
  }
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
