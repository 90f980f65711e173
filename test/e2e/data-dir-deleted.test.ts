/**
 * The data directory deleted under a running `herald serve` (SQLite): the process kept writing to
 * the unlinked file, answered 202 and stayed ready, and the next start made a new empty database:
 * everything accepted since was lost without a word. Now the first write or /readyz after it (a
 * stat at most once a second) fails: 503 HERALD_ERR_DATABASE_FILE_GONE, /readyz 503, an error line.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-data-dir-deleted-token-0123456789';
let herald: HeraldProcess | undefined;
after(async () => {
  await herald?.dispose();
});

test('a deleted data directory stops accepting (503) and turns /readyz 503 instead of losing events at restart', async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN } });
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
