/**
 * A stop whose grace ends while the dispatcher's thread is held (synchronous work, a long garbage
 * collection, a starved CPU, a paused process), an attempt's answer having come meanwhile: the
 * answer is read and the attempt recorded, not counted as still in flight. Until 2026-12-07 the
 * grace's timer ran first in the event loop's turn after the hold, before the poll that would have
 * read the answer: the attempt was said to be "still in flight after the grace", was not recorded,
 * and its delivery was sent again once its lease ran out (at the next start, with SQLite). Real
 * SQLite store, real sender, receiver in another process (it must answer while this one is held).
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

// Answers 200 ms after a request has come, and says on stdout that it came.
const SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => {
    console.log('request'); setTimeout(() => s.end('ok'), 200); }); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

test('an answer that came while the thread was held past the stop grace is recorded, not cut off', async (t) => {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  child.stdout!.setEncoding('utf8');
  const [port] = (await once(child.stdout!, 'data')) as [string];
  const url = `http://127.0.0.1:${Number(port.trim())}/hook`;

  const dir = mkdtempSync(join(tmpdir(), 'herald-held-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'h.db')}`, { dataDir: dir, encryptionKey: null });
  t.after(() => store.close());
  const now = Date.now();
  const project = await store.createProject({ name: 'p' }, now);
  await store.createEndpoint(
    endpointInput(project.id, { url, timeoutMs: 5_000, signature: { scheme: 'none' } }),
    's',
    now,
  );
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
  t.after(() => sender.close());
  const said: string[] = [];
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: { ...DEFAULT_DELIVERY, allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 20 },
    workerId: 'w',
    hooks: { onError: (error, during) => said.push(`${during}: ${(error as Error).message}`) },
  });
  await dispatcher.start();

  const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], Date.now());
  const delivery = accepted!.deliveries[0]!;
  await once(child.stdout!, 'data'); // the request is at the receiver, its answer 200 ms away
  const stopping = dispatcher.stop({ graceMs: 300 });
  // The thread held from 50 ms into the grace to past its end, the answer coming during the hold;
  // in a check-phase callback (as the tail of a busy turn): the event loop's next turn runs its
  // due timers before it reads the sockets. (Held in a timer's callback, the timers due after it
  // start wait for the next turn, which reads the sockets first.)
  setTimeout(() => setImmediate(() => holdThread(1_000)), 50);
  await stopping;

  assert.deepEqual(
    said.filter((line) => line.startsWith('shutdown')),
    [],
    'no attempt is said to be still in flight',
  );
  const after = await store.getDelivery(project.id, delivery.id);
  assert.equal(after?.attempts, 1, 'its attempt is recorded');
  assert.equal(after?.status, 'succeeded');
});
