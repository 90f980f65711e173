/**
 * An acknowledged event is never lost: `kill -9` of `herald serve` under load, restart on the same
 * database, and every event that got a 202 arrives at the receiver (duplicates are allowed by
 * at-least-once delivery; they are counted and reported).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';
import { eventually, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-crash-token-0123456789abcdef';
const BATCH = 50;

let pg: LocalPostgres | undefined;
after(() => pg?.stop());

const BACKENDS: { name: string; env: () => Promise<Record<string, string>> }[] = [
  { name: 'SQLite', env: async () => ({}) },
  {
    name: 'PostgreSQL',
    env: async () => {
      pg ??= await startPostgres();
      return { HERALD_DATABASE_URL: await pg.createDatabase() };
    },
  },
];

for (const backend of BACKENDS) {
  test(`${backend.name}: SIGKILL under load loses no acknowledged event`, async () => {
    const receiver = await startScriptedReceiver();
    let herald: HeraldProcess = await startHerald({
      env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8', ...(await backend.env()) },
      readyTimeoutMs: 30_000,
    });
    try {
      const project = await api<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', {
        name: 'crash',
      });
      const endpoint = await api(herald.url, TOKEN, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
        url: `${receiver.url}/hook`,
        retrySchedule: [0.2, 0.5, 1, 2, 4],
      });
      assert.equal(endpoint.status, 201);

      const acknowledged = new Set<string>();
      let sequence = 0;
      /** Sends batches from `parallel` loops until `stop()` says so; only 202 answers count as acknowledged. */
      const load = async (target: HeraldProcess, stop: () => boolean, parallel = 3) => {
        const loop = async () => {
          while (!stop()) {
            const events = Array.from({ length: BATCH }, () => ({
              type: 'PurchasePlayerPurchase',
              payload: { seq: sequence++ },
            }));
            try {
              const res = await api<{ data: { id: string }[] }>(
                target.url,
                TOKEN,
                'POST',
                `/api/v1/projects/${project.body.id}/events/batch`,
                { events },
              );
              if (res.status === 202) for (const e of res.body.data) acknowledged.add(e.id);
            } catch {
              return; // the server died under us: what was not acknowledged may be lost, and that is fine
            }
          }
        };
        await Promise.all(Array.from({ length: parallel }, loop));
      };

      // Phase 1: load, then SIGKILL in the middle of it.
      let killed = false;
      const phase1 = load(herald, () => killed);
      await eventually(async () => acknowledged.size >= 1500, 30_000, '1500 acknowledged events');
      await eventually(async () => receiver.hits.length > 200, 30_000, 'deliveries under way');
      await herald.kill('SIGKILL');
      killed = true;
      await phase1;
      const beforeCrash = acknowledged.size;

      // Phase 2: restart on the same database and keep loading for a while.
      herald = await herald.restart();
      let done = false;
      const phase2 = load(herald, () => done);
      await eventually(
        async () => acknowledged.size >= beforeCrash + 500,
        30_000,
        'more acknowledged events',
      );
      done = true;
      await phase2;

      const arrived = () => new Set(receiver.hits.map((h) => String(h.headers['webhook-id'])));
      await eventually(
        async () => [...acknowledged].every((id) => arrived().has(id)),
        // PostgreSQL keeps a dead process's claims until their 60 s lease ends (other processes may
        // be alive); SQLite, single-process, takes them back at restart.
        150_000,
        'every acknowledged event to arrive',
      );
      const duplicates = receiver.hits.length - arrived().size;
      const missing = [...acknowledged].filter((id) => !arrived().has(id));
      assert.deepEqual(missing, []);
      console.log(
        `crash-safety (${backend.name}): ${acknowledged.size} acknowledged (${beforeCrash} before the SIGKILL), all delivered; ${duplicates} duplicate deliveries`,
      );
    } finally {
      await herald.dispose();
      await receiver.close();
    }
  });
}
