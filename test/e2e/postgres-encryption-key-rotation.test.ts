/**
 * Rotating HERALD_ENCRYPTION_KEY with PostgreSQL and several processes: the first process started
 * with the new key seals every endpoint secret again, and a process still running with the old key
 * can no longer open them. That process must look unready (/readyz 503 naming the cause) instead of
 * healthy, hand what it claims back unattempted, so that a process with the current key delivers
 * it, and become ready again once the secrets open with its key.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { api as call, type HeraldProcess, runHerald, startHerald } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'pg-key-rotation-admin-token-0123456789';
const OLD_KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';
const NEW_KEY = 'MW7hcrHXcdYgqBXEDYxF1acwY44iwHFRpySug2Ujccg=';
const UNREADY = { status: 'secrets sealed with another key' };

const cluster = usePostgresProcesses(TOKEN);
const started: HeraldProcess[] = [];
after(async () => {
  await Promise.all(started.map((p) => p.dispose()));
});

/** `herald serve --role ROLE` on `url` with these keys (the fixture's start has one env for all). */
async function serve(url: string, role: 'all' | 'api' | 'worker', keys: Record<string, string>) {
  const p = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: url,
      ...keys,
    },
    args: ['--role', role],
  });
  started.push(p);
  return p;
}

async function readyz(p: HeraldProcess): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${p.url}/readyz`);
  return { status: response.status, body: await response.json() };
}

/** herald_claimed_deliveries_total of a process. */
async function claimedBy(p: HeraldProcess): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('herald_claimed_deliveries_total '));
  assert.ok(line, 'herald_claimed_deliveries_total in /metrics');
  return Number(line.split(' ')[1]);
}

interface Delivery {
  status: string;
  attempts: number;
}

// The tests run at once, each on a database of its own and a receiver path of its own: most of
// each is waiting (an old-key process's 10 s pause after a mismatch, starts), not work.
describe('encryption key rotation on PostgreSQL', { concurrency: true }, () => {
  // `all`: the dispatcher runs on a thread of its own (its own store); `worker`: on the main thread.
  for (const role of ['all', 'worker'] as const) {
    test(`a ${role} process left on the old key after a rotation answers /readyz 503 and hands its claims back`, async () => {
      const url = await cluster.pg.createDatabase();
      const old = await serve(url, role, { HERALD_ENCRYPTION_KEY: OLD_KEY });
      const seed = await serve(url, 'api', { HERALD_ENCRYPTION_KEY: OLD_KEY });
      const project = await call<{ id: string }>(seed.url, TOKEN, 'POST', '/api/v1/projects', { name: role });
      const path = `/rotation-${role}`;
      const endpoint = await call<{ id: string; secret: string }>(
        seed.url,
        TOKEN,
        'POST',
        `/api/v1/projects/${project.body.id}/endpoints`,
        { url: `${cluster.receiver.url}${path}` },
      );
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      await seed.kill();
      assert.deepEqual(await readyz(old), { status: 200, body: { status: 'ready' } });

      // The rotation's first restart: an API process (it claims nothing) with the new key reseals.
      const rotated = await serve(url, 'api', {
        HERALD_ENCRYPTION_KEY: NEW_KEY,
        HERALD_ENCRYPTION_KEY_PREVIOUS: OLD_KEY,
      });
      assert.ok(
        rotated.logLines().some((l) => l.resealed === 1),
        `no resealed line:\n${rotated.output()}`,
      );
      const post = async (n: number) => {
        const res = await call<{ id: string }>(
          rotated.url,
          TOKEN,
          'POST',
          `/api/v1/projects/${project.body.id}/events`,
          {
            type: 'rotation.test',
            payload: { n },
          },
        );
        assert.equal(res.status, 202, JSON.stringify(res.body));
        return res.body.id;
      };
      const deliveryOf = async (eventId: string) => {
        const res = await call<{ deliveries: Delivery[] }>(
          rotated.url,
          TOKEN,
          'GET',
          `/api/v1/projects/${project.body.id}/events/${eventId}`,
        );
        assert.equal(res.status, 200);
        return res.body.deliveries[0]!;
      };
      const hitsOf = (eventId: string) =>
        cluster.receiver.hits.filter((h) => h.url === path && h.headers['webhook-id'] === eventId);

      // The old process, the only dispatcher, claims it and cannot open the secret.
      const first = await post(1);
      const unready = await eventually(
        async () => {
          const r = await readyz(old);
          return r.status === 503 && r;
        },
        20_000,
        `/readyz 503 from the old-key ${role} process`,
      );
      assert.deepEqual(unready.body, UNREADY);
      const says = old.logLines().find((l) => l.readyz === UNREADY.status);
      assert.ok(says, `no unready line:\n${old.output()}`);
      assert.match(String(says.msg), /restart this process with the current HERALD_ENCRYPTION_KEY/);
      assert.match(String(says.msg), /HERALD_ENCRYPTION_KEY_PREVIOUS/);
      // Handed back and not claimed again for a while (KEY_MISMATCH_PAUSE_MS): before, it raced the
      // other processes for the same deliveries every second. Never an attempt, never sent.
      await new Promise((r) => setTimeout(r, 500));
      const claimedBefore = await claimedBy(old);
      assert.ok(claimedBefore >= 1, 'the old-key process claimed it');
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal(await claimedBy(old), claimedBefore, 'claimed again during the pause');
      const waiting = await deliveryOf(first);
      assert.equal(waiting.status, 'pending');
      assert.equal(waiting.attempts, 0);
      const attempts = await call<{ data: unknown[] }>(
        rotated.url,
        TOKEN,
        'GET',
        `/api/v1/projects/${project.body.id}/events/${first}/attempts`,
      );
      assert.deepEqual(attempts.body.data, []);
      assert.equal(hitsOf(first).length, 0);
      assert.equal((await readyz(old)).status, 503, 'still unready while the secrets do not open');

      // A worker with the current key delivers it, signed with the endpoint's secret, first attempt.
      const current = await serve(url, 'worker', { HERALD_ENCRYPTION_KEY: NEW_KEY });
      const delivered = await eventually(
        async () => {
          const d = await deliveryOf(first);
          return d.status === 'succeeded' && d;
        },
        30_000,
        'delivery by the current-key worker',
      );
      assert.equal(delivered.attempts, 1);
      const [hit] = hitsOf(first);
      assert.ok(hit, 'the receiver got it');
      new Webhook(endpoint.body.secret).verify(hit.body, {
        'webhook-id': String(hit.headers['webhook-id']),
        'webhook-timestamp': String(hit.headers['webhook-timestamp']),
        'webhook-signature': String(hit.headers['webhook-signature']),
      });

      // Rotated back (the old key current again, for this test's sake): the old process's next
      // claim opens the secrets, it delivers, and it is ready again.
      await current.kill();
      await rotated.kill();
      const back = await serve(url, 'api', {
        HERALD_ENCRYPTION_KEY: OLD_KEY,
        HERALD_ENCRYPTION_KEY_PREVIOUS: NEW_KEY,
      });
      const res = await call<{ id: string }>(
        back.url,
        TOKEN,
        'POST',
        `/api/v1/projects/${project.body.id}/events`,
        {
          type: 'rotation.test',
          payload: { n: 2 },
        },
      );
      assert.equal(res.status, 202);
      await eventually(
        async () => hitsOf(res.body.id).length === 1,
        20_000,
        'delivery by the old-key process',
      );
      await eventually(async () => (await readyz(old)).status === 200, 10_000, '/readyz 200 again');
      assert.deepEqual((await readyz(old)).body, { status: 'ready' });
    });
  }

  test('a start with the new key alone, while a secret is sealed with the old one (made by an api process on it), is refused saying what to do; with the old key as previous it starts and reseals it', async () => {
    const url = await cluster.pg.createDatabase();
    // The rotation's step 2 half done: the secrets resealed with NEW_KEY, but an api process still
    // on OLD_KEY created an endpoint since, sealing its secret with the old key.
    const oldApi = await serve(url, 'api', { HERALD_ENCRYPTION_KEY: OLD_KEY });
    const project = await call<{ id: string }>(oldApi.url, TOKEN, 'POST', '/api/v1/projects', {
      name: 'step3',
    });
    const endpoint = await call<{ id: string }>(
      oldApi.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${project.body.id}/endpoints`,
      {
        url: `${cluster.receiver.url}/step3`,
      },
    );
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    await oldApi.kill();

    // Step 3 too early: HERALD_ENCRYPTION_KEY_PREVIOUS removed. Before: only "cannot decrypt an
    // endpoint secret: it was sealed with neither …", naming neither the database nor what to do.
    const refused = await runHerald(['serve', '--role', 'worker'], {
      env: {
        HERALD_PORT: '0',
        HERALD_ADMIN_TOKEN: TOKEN,
        HERALD_DATABASE_URL: url,
        HERALD_ENCRYPTION_KEY: NEW_KEY,
      },
    });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^herald: HERALD_ENCRYPTION_KEY: does not open an endpoint secret of postgres:\/\/\S+, nor does a key in HERALD_ENCRYPTION_KEY_PREVIOUS: after a rotation, give the old key as HERALD_ENCRYPTION_KEY_PREVIOUS and start again, which seals it again with the new one \(else set HERALD_ENCRYPTION_KEY to the key it was sealed with\); nothing is lost \(docs\/operations\.md, Rotating keys and tokens\)\n$/,
    );
    assert.ok(
      !refused.stderr.includes(NEW_KEY) && !refused.stderr.includes(OLD_KEY),
      'no key in the message',
    );

    const fixed = await serve(url, 'worker', {
      HERALD_ENCRYPTION_KEY: NEW_KEY,
      HERALD_ENCRYPTION_KEY_PREVIOUS: OLD_KEY,
    });
    assert.ok(
      fixed.logLines().some((l) => l.resealed === 1),
      `no resealed line:\n${fixed.output()}`,
    );
  });
});
