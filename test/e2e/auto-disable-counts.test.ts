/**
 * Auto-disable under load, on a real `herald serve` with its defaults (threshold 10, up to 64
 * attempts in flight to an endpoint): a receiver that always answers 500 and 300 events queued to
 * it at once. Attempts in flight when the threshold is crossed finish after it; the counts the
 * operator reads must still be true: `endpoint.disabled` says the failures that disabled it (the
 * threshold's), its `parked` what the disable parked then, and once the attempts in flight are
 * recorded every delivery is parked, none retried, and nothing more was sent.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { eventually, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-0123456789abcdef';
const EVENTS = 300;
type Body = Record<string, unknown> & { id: string };

/** Defaults but the retry schedule: a minute, so no delivery is sent twice here unless wrongly. */
const ENV = {
  HERALD_ADMIN_TOKEN: TOKEN,
  HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
  HERALD_RETRY_SCHEDULE: '60',
  HERALD_RETRY_JITTER: '0',
};

const receivers: ScriptedReceiver[] = [];
const heralds: HeraldProcess[] = [];
let pg: LocalPostgres | undefined;
after(async () => {
  for (const h of heralds) await h.dispose();
  for (const r of receivers) await r.close();
  await pg?.stop();
});

const backends = [
  { name: 'sqlite', env: async () => ENV },
  {
    name: 'postgres',
    env: async () => {
      pg = await startPostgres();
      return { ...ENV, HERALD_DATABASE_URL: await pg.createDatabase() };
    },
  },
];

for (const backend of backends) {
  describe(`auto-disable counts: ${backend.name}`, () => {
    let herald: HeraldProcess;
    const api = <T = Body>(method: string, path: string, body?: unknown) =>
      call<T>(herald.url, TOKEN, method, path, body);

    test('300 events to a receiver answering 500: disabled at the threshold, every delivery parked once its attempt ends, nothing sent after', async () => {
      herald = await startHerald({ env: await backend.env() });
      heralds.push(herald);
      const receiver = await startScriptedReceiver(() => ({ status: 500, delayMs: 20 }));
      receivers.push(receiver);
      const project = await api('POST', '/api/v1/projects', { name: 'Failing receiver' });
      assert.equal(project.status, 201);
      const p = project.body.id;
      const ep = await api('POST', `/api/v1/projects/${p}/endpoints`, { url: `${receiver.url}/hooks` });
      assert.equal(ep.status, 201);
      const e = ep.body.id;
      const sent = await api('POST', `/api/v1/projects/${p}/events/batch`, {
        events: Array.from({ length: EVENTS }, (_, n) => ({ type: 'slot.submitted', payload: { n } })),
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));

      type Counts = { counts: { pending: number; parked: number } };
      const waiting = async () =>
        (await api<Counts>('GET', `/api/v1/projects/${p}/endpoints/${e}/deliveries?status=parked&limit=1`))
          .body.counts;
      // Settled: every delivery parked, none pending (in flight included).
      await eventually(async () => (await waiting()).parked === EVENTS, 60_000, 'all 300 parked');
      const counts = await waiting();
      const endpoint = (await api<Body>('GET', `/api/v1/projects/${p}/endpoints/${e}`)).body;
      const ops = (
        await api<{ data: { type: string; data: Record<string, unknown> }[] }>(
          'GET',
          `/api/v1/projects/${p}/operational-events?type=endpoint.disabled`,
        )
      ).body.data;
      const attempts = (
        await api<{ data: Body[] }>('GET', `/api/v1/projects/${p}/endpoints/${e}/attempts?limit=1000`)
      ).body.data;
      // Disabled once, by the threshold's failure: the record and the endpoint say 10, however many
      // attempts were in flight then (tens: before the fix the record said 62 and the endpoint 66).
      assert.equal(ops.length, 1);
      assert.equal(ops[0]!.data.reason, 'consecutive_failures');
      assert.equal(ops[0]!.data.consecutiveFailures, 10);
      assert.equal(endpoint.status, 'disabled');
      assert.equal(endpoint.consecutiveFailures, 10);
      // `parked` is what the disable parked then; the deliveries whose attempts were in flight are
      // parked by their own records after it, and counted by the endpoint's list, not by the record.
      const parked = Number(ops[0]!.data.parked);
      assert.ok(parked > 0 && parked <= EVENTS, `parked ${parked}`);
      assert.deepEqual(counts, { pending: 0, parked: EVENTS, atMost: 10_000 });
      // None pending: no retry was scheduled for those in flight, so nothing is due to it any more.
      // Nothing was sent but what was recorded, and no delivery twice.
      assert.ok(attempts.length >= 10, `${attempts.length} attempts`);
      assert.equal(receiver.hits.length, attempts.length);
      assert.equal(new Set(attempts.map((a) => a.deliveryId)).size, attempts.length);
    });
  });
}
