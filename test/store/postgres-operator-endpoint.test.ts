/**
 * The operator webhook's endpoint (src/operator/operator-project.ts) when several worker processes
 * start at once on one PostgreSQL: however their calls interleave, one managed endpoint remains, so
 * each operational event goes to HERALD_OPERATOR_WEBHOOK_URL once, signed with one secret.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  ensureOperatorEndpoint,
  OPERATOR_ENDPOINT_NAME,
  OPERATOR_PROJECT_UID,
} from '../../src/operator/operator-project.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';

const server = await withPostgres();
after(() => server.stop());

const WEBHOOK = { url: 'http://127.0.0.1:9/ops', secret: null };

test('workers starting at once leave one operator endpoint, not one each', async () => {
  const url = await server.createDatabase();
  const stores = [new PostgresStore(url), new PostgresStore(url)];
  try {
    await stores[0]!.migrate();
    // The operator project exists without its endpoint (an operator deleted it to start afresh).
    const first = await ensureOperatorEndpoint(stores[0]!, WEBHOOK, { timeoutMs: 5_000, now: Date.now() });
    await stores[0]!.deleteEndpoint(first.projectId, first.endpointId, Date.now());
    // Each process's pool is connected, as after its migration: their reads and writes interleave.
    for (const s of stores) await s.getProject(OPERATOR_PROJECT_UID);

    const now = Date.now();
    const targets = await Promise.all(
      stores.map((s) => ensureOperatorEndpoint(s, WEBHOOK, { timeoutMs: 5_000, now })),
    );
    const page = await stores[0]!.listEndpoints(first.projectId, { limit: 100, cursor: null });
    const managed = page.data.filter((e) => e.name === OPERATOR_ENDPOINT_NAME);
    assert.equal(managed.length, 1, `one operator endpoint, got ${managed.map((e) => e.id).join(', ')}`);
    for (const t of targets) assert.equal(t.projectId, first.projectId);
  } finally {
    for (const s of stores) await s.close();
  }
});
