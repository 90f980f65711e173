/**
 * `herald copy-to-postgres`: an installation built through the API of a `herald serve` on SQLite
 * (every signature scheme, rotated secrets, an API key, a catalog, a portal link, deliveries
 * succeeded, failed, pending, parked, and one in flight when the process was killed) is copied into
 * a throwaway PostgreSQL; `herald serve` there, with the same key, answers the old API key with the
 * same events, endpoints and attempts, and delivers what was waiting with signatures that verify
 * with the original secrets. A served source and a non-empty target are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { type SchemeOptions, type SignatureScheme, verifyWebhook } from '@herald/verify';
import pg from 'pg';
import { freePort } from '../support/free-port.ts';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, runHerald, startHerald } from './harness.ts';
import { type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const ADMIN = 'copy-to-postgres-admin-token-0123456789';
type Body = Record<string, unknown> & { id: string };

let postgres: LocalPostgres;
let receiver: ScriptedReceiver;
const dataDir = mkdtempSync(join(tmpdir(), 'herald-copy-'));
const processes: HeraldProcess[] = [];
before(async () => {
  postgres = await startPostgres();
  receiver = await startScriptedReceiver();
});
after(async () => {
  await Promise.all(processes.map((p) => p.dispose()));
  await receiver?.close();
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const serve = async (env: Record<string, string>, role: 'all' | 'api' | 'worker' = 'all') => {
  const p = await startHerald({
    dataDir,
    env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8', ...env },
    args: ['--role', role],
  });
  processes.push(p);
  return p;
};

/** Every scheme, to a receiver that is down while SQLite serves: each delivery is pending at the copy. */
const SCHEMES: { name: string; settings: Record<string, unknown>; rotate?: boolean }[] = [
  { name: 'standard', settings: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, rotate: true },
  {
    name: 'wpg',
    settings: {
      envelope: 'event-data',
      signature: {
        scheme: 'hmac-sha256',
        signatureHeader: 'X-WPG-Signature',
        timestampHeader: 'X-WPG-Timestamp',
      },
    },
  },
  { name: 'stripe', settings: { signature: { scheme: 'stripe' } }, rotate: true },
  { name: 'github', settings: { secret: 'imported-github-secret', signature: { scheme: 'github' } } },
  { name: 'gamepush', settings: { envelope: 'raw', signature: { scheme: 'sha256-body' } } },
  {
    name: 'ppg',
    settings: {
      envelope: 'raw',
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: 'ppg-key' },
    },
  },
  { name: 'none', settings: { envelope: 'raw', signature: { scheme: 'none' } } },
];
/** Key order and a number past 2^53 that a JSON.parse round trip would change. */
const PAYLOAD_TEXT = '{"zeta":1,"alpha":{"n":9007199254740993,"text":"ü ß"},"list":[3,2,1]}';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the project's API key reads of the installation: compared before and after the copy. */
async function snapshot(url: string, key: string, projectId: string) {
  const get = async <T = Body>(path: string) => {
    const r = await api<T>(url, key, 'GET', path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const p = `/api/v1/projects/${projectId}`;
  const events = (await get<{ data: Body[] }>(`${p}/events?limit=100`)).data;
  const endpoints = (await get<{ data: Body[] }>(`${p}/endpoints?limit=100`)).data;
  const details = await Promise.all(events.map((e) => get(`${p}/events/${e.id}`)));
  const attempts = await Promise.all(
    events.map((e) => get<{ data: Body[] }>(`${p}/events/${e.id}/attempts`)),
  );
  const history = await Promise.all(
    endpoints.map((e) => get<{ data: Body[] }>(`${p}/endpoints/${e.id}/attempts?limit=100`)),
  );
  const secrets = await Promise.all(endpoints.map((e) => get(`${p}/endpoints/${e.id}/secret`)));
  const keys = await get<{ data: Body[] }>(`${p}/api-keys`);
  const catalog = await get<{ data: Body[] }>('/api/v1/event-types');
  return {
    events,
    endpoints,
    details,
    attempts: attempts.map((a) => a.data),
    history: history.map((h) => h.data),
    secrets,
    keys: keys.data,
    catalog: catalog.data,
  };
}

test('a SQLite installation copied into PostgreSQL serves the same data and delivers what was waiting, signed with the same secrets', async () => {
  const downPort = await freePort(); // nothing listens there until after the copy
  const down = `http://127.0.0.1:${downPort}`;
  let hang = true;
  receiver.script((hit) => (hit.url === '/hang' && hang ? { hang: true } : { status: 200, body: 'thanks' }));

  const sqlite = await serve({});
  const admin = <T = Body>(method: string, path: string, body?: unknown) =>
    api<T>(sqlite.url, ADMIN, method, path, body);
  const project = (await admin('POST', '/api/v1/projects', { name: 'moving', uid: 'moving' })).body;
  const p = `/api/v1/projects/${project.id}`;
  const apiKey = (await admin<{ id: string; key: string }>('POST', `${p}/api-keys`, { name: 'platform' }))
    .body.key;
  assert.equal(
    (
      await admin('PUT', '/api/v1/event-types/ok.x', {
        description: 'fine',
        schema: { type: 'object' },
        example: { b: 2, a: 1 },
      })
    ).status,
    200,
  );
  assert.equal((await admin('PUT', '/api/v1/event-types/old.x', { deprecated: true })).status, 200);
  const portal = (await admin<{ token: string }>('POST', `${p}/portal-links`, { expiresIn: 3600 })).body
    .token;

  // Pending: every scheme to the down receiver, retried every 8 s.
  const pending: { path: string; scheme: string; secrets: string[]; options: SchemeOptions; id: string }[] =
    [];
  for (const s of SCHEMES) {
    const created = await admin<Body & { secret: string; signature: Record<string, unknown> }>(
      'POST',
      `${p}/endpoints`,
      {
        url: `${down}/${s.name}?source=herald`,
        eventTypes: ['pending.x'],
        retrySchedule: [2, 8, 8, 8, 8, 8, 8, 8],
        ...s.settings,
      },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const secrets = [created.body.secret];
    if (s.rotate) {
      const rotated = await admin<{ secret: string }>(
        'POST',
        `${p}/endpoints/${created.body.id}/secret/rotate`,
        { graceSeconds: 86_400 },
      );
      secrets.unshift(rotated.body.secret);
    }
    const { scheme, ...options } = created.body.signature as unknown as { scheme: string } & SchemeOptions;
    pending.push({ path: `/${s.name}`, scheme, secrets, options, id: created.body.id });
  }
  const failing = (
    await admin('POST', `${p}/endpoints`, {
      url: `${down}/failed`,
      eventTypes: ['fail.x'],
      retrySchedule: [],
    })
  ).body;
  const parking = (
    await admin('POST', `${p}/endpoints`, {
      url: `${down}/parked`,
      eventTypes: ['park.x'],
      retrySchedule: [600],
    })
  ).body;
  const working = (await admin('POST', `${p}/endpoints`, { url: `${receiver.url}/ok`, eventTypes: ['ok.x'] }))
    .body;
  const hanging = (
    await admin('POST', `${p}/endpoints`, {
      url: `${receiver.url}/hang`,
      eventTypes: ['hang.x'],
      timeoutMs: 30_000,
    })
  ).body;

  const send = async (type: string, extra: Record<string, unknown> = {}) => {
    const r = await api<Body>(sqlite.url, apiKey, 'POST', `${p}/events`, {
      type,
      payload: { type, n: 1 },
      ...extra,
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.id;
  };
  const pendingEvent = (
    await (
      await fetch(`${sqlite.url}${p}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: `{"type":"pending.x","payload":${PAYLOAD_TEXT}}`,
      })
    ).json()
  ).id as string;
  const okEvent = await send('ok.x', { idempotencyKey: 'order-1' });
  await send('fail.x');
  await send('park.x');
  const deliveryStatus = (eventId: string) =>
    api<{ deliveries: { status: string; attempts: number }[] }>(
      sqlite.url,
      apiKey,
      'GET',
      `${p}/events/${eventId}`,
    ).then((r) => r.body.deliveries);
  await until('deliveries in their states', async () => {
    const [pend, ok] = await Promise.all([deliveryStatus(pendingEvent), deliveryStatus(okEvent)]);
    const states = await Promise.all(
      (await api<{ data: Body[] }>(sqlite.url, apiKey, 'GET', `${p}/events?limit=10`)).body.data.map((e) =>
        deliveryStatus(e.id),
      ),
    );
    const all = states.flat();
    return pend.every((d) => d.status === 'pending' && d.attempts >= 1) &&
      ok[0]?.status === 'succeeded' &&
      all.some((d) => d.status === 'failed') &&
      all.filter((d) => d.attempts >= 1).length === all.length
      ? true
      : undefined;
  });
  assert.equal((await admin('PATCH', `${p}/endpoints/${parking.id}`, { active: false })).status, 200);
  // In flight: the process is killed while it waits for the hanging receiver.
  const before = receiver.hits.length;
  await send('hang.x');
  await until('the hanging send', async () =>
    receiver.hits.slice(before).some((h) => h.url === '/hang') ? true : undefined,
  );
  await sqlite.kill('SIGKILL');

  // What the old key reads, from a process that delivers nothing (so nothing changes meanwhile).
  const reader = await serve({}, 'api');
  const expected = await snapshot(reader.url, apiKey, project.id);
  assert.ok(
    expected.details.some((e) => (e.deliveries as { status: string }[]).some((d) => d.status === 'parked')),
  );
  const target = await postgres.createDatabase();
  // The source is being served: refused, nothing copied.
  const served = await runHerald(['copy-to-postgres', '--to', target], { env: { HERALD_DATA_DIR: dataDir } });
  assert.equal(served.code, 1, served.stdout + served.stderr);
  assert.match(served.stderr, /a Herald process is serving .*herald\.db .*stop it first/);
  await reader.kill('SIGTERM');

  const copied = await runHerald(['copy-to-postgres', '--to', target], { env: { HERALD_DATA_DIR: dataDir } });
  assert.equal(copied.code, 0, copied.stdout + copied.stderr);
  const out = copied.stdout;
  assert.match(out, /^events +5$/m);
  assert.match(out, /^endpoints +11$/m);
  assert.match(out, /^endpoint_secrets +13$/m); // 11 endpoints, 2 rotations
  assert.match(out, /^api_keys +1$/m);
  assert.match(out, /^event_types +2$/m);
  assert.match(out, /each table's count in PostgreSQL matches SQLite's/);
  assert.match(out, /1 delivery was being sent when SQLite stopped: it is due at once/);
  assert.match(
    out,
    new RegExp(
      `13 endpoint secret\\(s\\) copied sealed, as they were: every herald serve on PostgreSQL needs HERALD_ENCRYPTION_KEY set to the key in ${join(dataDir, 'encryption-key')}`,
    ),
  );

  // Byte for byte: every payload's text, and no claim left.
  const source = new DatabaseSync(join(dataDir, 'herald.db'), { readOnly: true });
  const sourcePayloads = source.prepare('SELECT id, payload FROM events ORDER BY id').all();
  source.close();
  const client = new pg.Client({ connectionString: target });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT id, payload::text AS payload FROM events ORDER BY id');
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      sourcePayloads.map((r) => ({ ...r })),
    );
    assert.ok(rows.some((r) => r.payload === PAYLOAD_TEXT));
    const claimed = await client.query(
      'SELECT count(*)::int AS n FROM deliveries WHERE leased_by IS NOT NULL OR lease_until IS NOT NULL',
    );
    assert.equal(claimed.rows[0].n, 0);
  } finally {
    await client.end();
  }

  // PostgreSQL, with the key the SQLite installation kept in its data directory: the same answers.
  const key = readFileSync(join(dataDir, 'encryption-key'), 'utf8').trim();
  const pgEnv = { HERALD_DATABASE_URL: target, HERALD_ENCRYPTION_KEY: key };
  const apiProcess = await serve(pgEnv, 'api');
  const actual = await snapshot(apiProcess.url, apiKey, project.id);
  // The one in flight is due at once now, unclaimed; everything else is as it was.
  const unclaimed = (d: Record<string, unknown>) =>
    d.endpointId === hanging.id ? { ...d, nextAttemptAt: '(reset)', inFlight: '(reset)' } : d;
  const normal = (s: typeof expected) => ({
    ...s,
    details: s.details.map((e) => ({
      ...e,
      deliveries: (e.deliveries as Record<string, unknown>[]).map(unclaimed),
    })),
    keys: s.keys.map((k) => ({ ...k, lastUsedAt: '(used since)' })),
  });
  assert.deepEqual(normal(actual), normal(expected));
  const inFlight = actual.details
    .flatMap((e) => e.deliveries as Record<string, unknown>[])
    .find((d) => d.endpointId === hanging.id)!;
  assert.equal(inFlight.inFlight, false);
  assert.ok(Date.parse(String(inFlight.nextAttemptAt)) <= Date.now());
  // The idempotency key came along: the same event, nothing new.
  const again = await api<Body>(apiProcess.url, apiKey, 'POST', `${p}/events`, {
    type: 'ok.x',
    payload: { other: true },
    idempotencyKey: 'order-1',
  });
  assert.equal(again.body.id, okEvent);
  // The portal link made on SQLite still opens the project (same admin token).
  assert.equal((await api(apiProcess.url, portal, 'GET', `${p}/endpoints`)).status, 200);

  // The receiver comes up, a worker starts, the parked endpoint is enabled: everything waiting
  // arrives, signed with the secrets the endpoints had on SQLite.
  const arrived: { url: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const downReceiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrived.push({
        url: req.url ?? '',
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => downReceiver.listen(downPort, '127.0.0.1', r));
  try {
    hang = false;
    const hangBefore = receiver.hits.filter((h) => h.url === '/hang').length;
    await serve(pgEnv, 'worker');
    assert.equal(
      (await api(apiProcess.url, apiKey, 'PATCH', `${p}/endpoints/${parking.id}`, { active: true })).status,
      200,
    );
    await until('every waiting delivery', async () =>
      SCHEMES.every((s) => arrived.some((a) => a.url.startsWith(`/${s.name}?`))) &&
      arrived.some((a) => a.url === '/parked') &&
      receiver.hits.filter((h) => h.url === '/hang').length > hangBefore
        ? true
        : undefined,
    );
    for (const want of pending) {
      const hit = arrived.find((a) => a.url.startsWith(`${want.path}?`))!;
      if (want.scheme === 'none') {
        assert.equal(hit.body, PAYLOAD_TEXT);
        continue;
      }
      // Each secret of a rotation signs, on its own, as on SQLite.
      for (const secret of want.secrets) {
        verifyWebhook({
          scheme: want.scheme as SignatureScheme,
          payload: hit.body,
          headers: hit.headers as Record<string, string>,
          secret,
          url: `${down}${hit.url}`,
          method: hit.method,
          options: want.options,
        });
      }
    }
    assert.ok(arrived.find((a) => a.url === '/standard?source=herald')!.body.includes(PAYLOAD_TEXT));
    assert.ok(!arrived.some((a) => a.url === '/failed'), 'a failed delivery stays failed');
  } finally {
    await new Promise((r) => downReceiver.close(r));
  }
  assert.equal(working.id.length > 0, true);
  assert.equal(failing.id.length > 0, true);

  // A second copy into the database that now holds the installation: refused, naming what it holds.
  const second = await runHerald(['copy-to-postgres', '--to', target], { env: { HERALD_DATA_DIR: dataDir } });
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.match(
    second.stderr,
    /the PostgreSQL database is not empty: it holds rows in event_types \(2\), projects \(1\), api_keys \(1\), endpoints \(11\), .*events \(5\)/,
  );
});
