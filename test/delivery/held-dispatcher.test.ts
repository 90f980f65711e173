/**
 * A dispatcher whose thread is held again and again by synchronous work (here a busy loop; in
 * production a claim reading large payloads through node:sqlite held the dispatcher thread 0.5-4 s
 * under load) while a healthy receiver answers at once. Before, the attempts out during a hold were
 * recorded as timeouts, and after `failureThreshold` of them in a row the healthy endpoint was
 * disabled and its deliveries parked. The held time is not the receiver's: every delivery succeeds
 * at its first attempt. Real SQLite store, real sender, receiver in another process (it must answer
 * while this one is held).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { holdThread } from '../support/hold-thread.ts';

const SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('ok')); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
const EVENTS = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a dispatcher thread held past the timeout again and again: a healthy endpoint is neither timed out nor disabled', async (t) => {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${Number(data.toString().trim())}/hook`;

  const dir = mkdtempSync(join(tmpdir(), 'herald-held-dispatcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`, { dataDir: dir, encryptionKey: null });
  t.after(() => store.close());
  const now = Date.now();
  const project = await store.createProject({ name: 'p' }, now);
  const endpoint = await store.createEndpoint(
    endpointInput(project.id, { url, timeoutMs: 300, signature: { scheme: 'none' } }),
    's',
    now,
  );
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
  t.after(() => sender.close());
  const dispatcher = createDispatcher({
    store,
    // Each request held up right after it is handed to the sender: its answer comes while the
    // thread is held, past the 300 ms timeout. Three timeouts in a row would disable the endpoint.
    send: (request) => {
      const sent = sender.send(request);
      holdThread(450);
      return sent;
    },
    config: { ...DEFAULT_DELIVERY, allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 20, failureThreshold: 3 },
    workerId: 'w',
  });
  await dispatcher.start();
  t.after(() => dispatcher.stop({ graceMs: 1_000 }));

  await store.acceptEvents(
    project.id,
    Array.from({ length: EVENTS }, () => eventInput('a')),
    Date.now(),
  );
  let attempts = (await store.listAttempts(project.id, { limit: 100 })).data;
  for (let i = 0; i < 200 && attempts.length < EVENTS; i++) {
    await sleep(50);
    attempts = (await store.listAttempts(project.id, { limit: 100 })).data;
  }
  const ep = await store.getEndpoint(project.id, endpoint.id);
  const failed = attempts.filter((a) => a.error !== null).map((a) => a.error!.message);
  assert.deepEqual(failed, [], `${failed.length} of ${attempts.length} attempts failed`);
  assert.equal(attempts.length, EVENTS);
  assert.equal(ep?.status, 'active', ep?.disabledReason ?? '');
});
