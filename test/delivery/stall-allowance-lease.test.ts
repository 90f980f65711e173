/**
 * The time the dispatcher thread could not run is left out of an attempt's timeout only as far as
 * the claim's lease allows (send-attempt.ts): what the lease leaves past the timeout and
 * LEASE_MARGIN_MS, the time to write the record. Past that the attempt times out, so it ends inside
 * its lease and no other worker claims the delivery and sends it again meanwhile. A real SQLite
 * store's claim (its lease), the real sender, a receiver in another process that never answers, and
 * this thread held while the attempt is out: the attempt's error says how much was left out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LEASE_MARGIN_MS } from '../../src/config/config-types.ts';
import { createAttemptSender } from '../../src/delivery/send-attempt.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { AttemptRecord, Store } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { holdThread } from '../support/hold-thread.ts';

const SERVER = `require('node:http').createServer(() => {})
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
const TIMEOUT_MS = 1_000;
/** What the first case's lease leaves past the timeout and the margin. */
const ROOM_MS = 1_500;

let child: ReturnType<typeof spawn>;
let url: string;
let dir: string;
let store: Store;
const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
before(async () => {
  child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  url = `http://127.0.0.1:${Number(data.toString().trim())}/silent`;
  dir = mkdtempSync(join(tmpdir(), 'herald-stall-lease-'));
  store = await openStore(`sqlite:${join(dir, 'h.db')}`, { dataDir: dir, encryptionKey: null });
});
after(async () => {
  await sender.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  child.kill();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One attempt of a delivery claimed under a lease of `leaseMs`, this thread held `holdMs` 50 ms into it. */
async function attemptUnderLease(leaseMs: number, holdMs: number): Promise<string> {
  const now = Date.now();
  const project = await store.createProject({ name: `p${leaseMs}` }, now);
  const created = await store.createEndpoint(
    endpointInput(project.id, { url, timeoutMs: TIMEOUT_MS, signature: { scheme: 'none' } }),
    's',
    now,
  );
  await store.acceptEvents(project.id, [eventInput('a')], now);
  const [claimed] = await store.claimDueDeliveries({ limit: 1, leaseMs, now: Date.now(), workerId: 'w' });
  assert.ok(claimed, 'a delivery claimed');
  const { endpoint, secrets } = (
    await store.getDispatchEndpoints([{ projectId: project.id, endpointId: created.id }], now)
  ).get(created.id)!;
  const records: AttemptRecord[] = [];
  const attempt = createAttemptSender({
    send: sender.send,
    clock: Date.now,
    random: Math.random,
    retryJitter: 0,
    workerId: 'w',
    onAttempted: (record) => records.push(record),
    onLocalFailure: (_claimed, result) => assert.fail(`a local failure: ${result.error?.message}`),
  });
  const done = attempt(claimed, endpoint, secrets, TIMEOUT_MS, [60]);
  await sleep(50);
  holdThread(holdMs);
  await done;
  assert.equal(records.length, 1);
  const { error } = records[0]!.attempt;
  assert.equal(error?.kind, 'timeout', JSON.stringify(error));
  return error!.message;
}

test('a hold past what the lease leaves: at most the lease less the timeout and the margin is left out', async () => {
  // ROOM_MS of the lease past the timeout and the record's margin, less the time from the claim to
  // the attempt (which a loaded machine stretches): of the ~3,950 ms held after the attempt began,
  // no more than that is left out, and some of it is.
  const message = await attemptUnderLease(TIMEOUT_MS + LEASE_MARGIN_MS + ROOM_MS, 4_000);
  const left = Number(/not counting (\d+) ms this process could not run$/.exec(message)?.[1]);
  assert.ok(left > 0 && left <= ROOM_MS, message);
});

test('a lease with no room past the timeout and the margin: the timeout is wall time', async () => {
  const message = await attemptUnderLease(TIMEOUT_MS + LEASE_MARGIN_MS - 100, 1_500);
  assert.match(message, /took longer than its 1000 ms timeout$/);
});
