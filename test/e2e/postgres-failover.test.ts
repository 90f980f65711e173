/**
 * Herald on PostgreSQL with a streaming standby, through a TCP proxy standing in for the name or
 * address a failover moves. A process whose URL leads to the standby (the proxy switched before the
 * promotion, a failover tool's race, or a URL naming the wrong server) finds it read-only: every
 * write fails with SQLSTATE 25006. That is the database not usable for now, as when it cannot be
 * reached: 503 with Retry-After and one warn line per 10 s, /readyz 503, not a 500 and a stack per
 * request and per claim; and the process recovers by itself once the standby is promoted.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ReplicatedPostgres, startReplicatedPostgres } from '../support/postgres-standby.ts';
import { api as call, type HeraldProcess, runHerald, startHerald } from './harness.ts';
import { eventually, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-failover-token-0123456789abcdef';
const started: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function serve(databaseUrl: string, role: 'api' | 'worker' | 'all'): Promise<HeraldProcess> {
  const p = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: databaseUrl,
    },
    args: ['--role', role],
  });
  started.push({ stop: () => p.dispose() });
  return p;
}

function postEvent(baseUrl: string, events: string, n: number) {
  return fetch(`${baseUrl}${events}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'failover.test', payload: { n } }),
  });
}

/** What an answer's body says went wrong, shortly: its message up to the first "(", ";" or ":". */
function refusal(body: string): string {
  try {
    return (JSON.parse(body) as { error: { message: string } }).error.message.split(/[(;:]/)[0]!.trim();
  } catch {
    return body.slice(0, 40);
  }
}

/** Lines at warn level or above since `from`. */
const warnings = (p: HeraldProcess, from: number) =>
  p
    .logLines()
    .slice(from)
    .filter((l) => Number(l.level) >= 40);

/** A primary and its standby behind a proxy, an `api` and a `worker` on it, a project with one endpoint. */
async function setUp() {
  const pg: ReplicatedPostgres = await startReplicatedPostgres();
  started.push(pg);
  const receiver = await startScriptedReceiver();
  started.push({ stop: () => receiver.close() });
  const url = await pg.createDatabase();
  const apiProcess = await serve(url, 'api');
  const worker = await serve(url, 'worker');
  const project = await call<{ id: string }>(apiProcess.url, TOKEN, 'POST', '/api/v1/projects', {
    name: 'f',
  });
  assert.equal(project.status, 201);
  const endpoint = await call(
    apiProcess.url,
    TOKEN,
    'POST',
    `/api/v1/projects/${project.body.id}/endpoints`,
    {
      url: `${receiver.url}/hook`,
    },
  );
  assert.equal(endpoint.status, 201);
  const events = `/api/v1/projects/${project.body.id}/events`;
  assert.equal((await postEvent(apiProcess.url, events, 0)).status, 202);
  await receiver.waitFor(1);
  await pg.caughtUp();
  return { pg, receiver, apiProcess, worker, events, url };
}

test('a URL that leads to a standby: 503 with Retry-After, throttled warn lines, /readyz 503; recovers once it is promoted', async () => {
  const { pg, receiver, apiProcess, worker, events, url } = await setUp();

  // The name moves to the standby before it is promoted; the open connections are cut.
  const marks = { api: apiProcess.logLines().length, worker: worker.logLines().length };
  pg.proxy.pointTo(pg.standby.port);
  pg.proxy.dropConnections();
  for (let i = 1; i <= 20; i++) {
    const res = await postEvent(apiProcess.url, events, i);
    const body = await res.text();
    assert.equal(res.status, 503, body);
    assert.equal(
      (JSON.parse(body) as { error: { code: string } }).error.code,
      'HERALD_ERR_DATABASE_UNAVAILABLE',
    );
    assert.ok(res.headers.get('retry-after'));
  }
  for (const p of [apiProcess, worker]) {
    const ready = await fetch(`${p.url}/readyz`);
    assert.equal(ready.status, 503, await ready.text());
  }
  await sleep(2_500); // the worker's claims fail meanwhile (at least once a second)
  for (const [name, p, from] of [
    ['api', apiProcess, marks.api],
    ['worker', worker, marks.worker],
  ] as const) {
    // Warnings only (the connections the proxy cut may add a "cannot be reached" line), saying
    // read-only, each line once (the API's 20 refusals, the worker's claims: throttled, not one
    // per call; a retention round that falls in the window has a line of its own).
    const lines = warnings(p, from);
    const readOnly = lines.filter((l) => String(l.msg).includes('read-only')).map((l) => String(l.msg));
    assert.deepEqual(
      [lines.every((l) => l.level === 40), readOnly.length > 0, new Set(readOnly).size === readOnly.length],
      [true, true, true],
      `${name}: ${JSON.stringify(lines).slice(0, 1500)}`,
    );
  }

  // A process started meanwhile stops at once, saying which setting leads to a standby.
  const refused = await runHerald(['serve'], {
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_DATABASE_URL: url,
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
    },
    killAfterMs: 20_000,
  });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(
    refused.stderr,
    /\(HERALD_DATABASE_URL, --database\) takes no writes .*: it is a standby in recovery/,
  );

  // Promoted: the sessions already open to it take writes, new ones too.
  await pg.standby.promote();
  const promotedAt = Date.now();
  let accepted = 0;
  await eventually(
    async () => (await postEvent(apiProcess.url, events, 100)).status === 202 && ++accepted > 0,
    10_000,
    'an event accepted after the promotion',
  );
  const firstAcceptedMs = Date.now() - promotedAt;
  for (const p of [apiProcess, worker]) assert.equal((await fetch(`${p.url}/readyz`)).status, 200);
  await receiver.waitFor(2, 10_000);
  console.log(
    `failover: first 202 ${firstAcceptedMs} ms after pg_ctl promote returned, delivered ${Date.now() - promotedAt} ms after`,
  );
});

test('a URL that led to a standby and leads to the primary again (never promoted): the process goes on under load', async () => {
  const { pg, apiProcess, worker, events } = await setUp();
  // Clients posting without pause keep every pooled connection busy: none is closed for idling.
  let phase: 'standby' | 'back' | 'done' = 'standby';
  const answers = {
    standby: new Map<number, number>(),
    back: [] as { status: number; at: number; what?: string }[],
  };
  const client = async () => {
    for (let n = 0; phase !== 'done'; n++) {
      const res = await postEvent(apiProcess.url, events, n).catch(() => null);
      const body = (await res?.text()) ?? '';
      const status = res?.status ?? 0;
      if (phase === 'standby') answers.standby.set(status, (answers.standby.get(status) ?? 0) + 1);
      // What a refusal says (read-only, cannot be reached, busy) is printed below.
      else answers.back.push({ status, at: Date.now(), ...(status === 202 ? {} : { what: refusal(body) }) });
    }
  };
  pg.proxy.pointTo(pg.standby.port);
  pg.proxy.dropConnections();
  const clients = Array.from({ length: 8 }, client);
  await sleep(2_000);
  // The pooler or the name leads to the primary again; the connections open to the standby stay.
  pg.proxy.pointTo(pg.primary.port);
  const backAt = Date.now();
  phase = 'back';
  await sleep(4_000);
  phase = 'done';
  await Promise.all(clients);
  // Within 2 s: a clean-clone CI run of 2026-12-06 (the whole suite, nothing else on the machine)
  // had one of 3 refusals past 1 s; before the fix of d89c12e all 4 s were refused (1,501 past 1 s).
  // A late one can come from a session begun on the standby after its last refusal and left idle
  // under newer ones until load reaches it; the first write through now retires those (pool.ts
  // sawWritable; test/store/postgres-read-only-pool.test.ts).
  const refusedAt = answers.back
    .filter((a) => a.status !== 202)
    .map((a) => `${a.status} ${a.what ?? ''}@${a.at - backAt}ms`);
  const failedAfter = answers.back.filter((a) => a.status !== 202 && a.at - backAt > 2_000).length;
  const firstAccepted = answers.back.find((a) => a.status === 202);
  // The first ten and the last five: a late one is shown however many came early.
  const shown = refusedAt.length > 15 ? [...refusedAt.slice(0, 10), '…', ...refusedAt.slice(-5)] : refusedAt;
  console.log(
    `standby then primary: ${JSON.stringify([...answers.standby])} while on the standby; ` +
      `first 202 ${firstAccepted ? firstAccepted.at - backAt : 'never'} ms after, ` +
      `${answers.back.filter((a) => a.status !== 202).length} of ${answers.back.length} refused after (${shown.join(', ')})`,
  );
  assert.equal(answers.standby.get(503) !== undefined, true);
  assert.equal(failedAfter, 0, 'requests refused more than 2 s after the URL led to the primary again');
  for (const p of [apiProcess, worker]) {
    const ready = await fetch(`${p.url}/readyz`);
    assert.equal(ready.status, 200, `${await ready.text()}`);
  }
});
