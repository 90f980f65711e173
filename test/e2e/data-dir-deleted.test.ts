/**
 * The data directory deleted under a running `herald serve` (SQLite): the process kept writing to
 * the unlinked file, answered 202 and stayed ready, and the next start made a new empty database:
 * everything accepted since was lost without a word. Now the first write or /readyz after it (a
 * stat at most once a second) fails: 503 HERALD_ERR_DATABASE_FILE_GONE, /readyz 503, an error line.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKLOG_READ_REUSE_MS } from '../../src/metrics.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-data-dir-deleted-token-0123456789';
const started: HeraldProcess[] = [];
let herald: HeraldProcess | undefined;
after(async () => {
  await Promise.all(started.map((p) => p.dispose()));
});

test('a deleted data directory stops accepting (503) and turns /readyz 503 instead of losing events at restart', async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN } });
  started.push(herald);
  const project = await api<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', { name: 'gone' });
  assert.equal(project.status, 201);
  const send = () =>
    api<{ error?: { code: string; message: string } }>(
      herald!.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${project.body.id}/events`,
      { type: 'x', payload: {} },
    );
  assert.equal((await send()).status, 202);
  rmSync(herald.dataDir, { recursive: true, force: true });
  const refused = await eventually(
    async () => {
      const r = await send();
      return r.status !== 202 && r;
    },
    5_000,
    'an accept refused after the deletion',
  );
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.equal(refused.body.error?.code, 'HERALD_ERR_DATABASE_FILE_GONE');
  assert.doesNotMatch(refused.body.error?.message ?? '', /herald\.db/, 'the path stays in the log');
  const metrics = await (await fetch(`${herald.url}/metrics`)).text();
  assert.match(metrics, /^herald_store_up 0$/m);
  const ready = await fetch(`${herald.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'database file deleted or replaced' });
  await eventually(
    async () => herald!.output().includes('was deleted since this process opened it'),
    5_000,
    'an error line naming the file',
  );
});

test('scrapes during the outage log "cannot read the delivery backlog" once, then at most once per 10 s with the number since', async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN } });
  started.push(herald);
  rmSync(herald.dataDir, { recursive: true, force: true });
  const scrape = async () => (await fetch(`${herald!.url}/metrics`)).text();
  await eventually(async () => /^herald_store_up 0$/m.test(await scrape()), 5_000, 'herald_store_up 0');
  // Each scrape reads the database again once the last read is BACKLOG_READ_REUSE_MS old, as two
  // Prometheus servers scraping every 15 s would, or one every second. Before, each such read
  // wrote its warning: one line a second for as long as the outage lasted.
  for (let i = 0; i < 3; i++) {
    await sleep(BACKLOG_READ_REUSE_MS + 100);
    assert.match(await scrape(), /^herald_store_up 0$/m);
  }
  const lines = herald.logLines().filter((l) => /cannot read the delivery backlog/.test(String(l.msg)));
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.level, 40);
});
