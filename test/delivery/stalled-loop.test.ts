/**
 * An attempt whose own process could not run: the event loop held by synchronous work (a claim
 * reading large payloads, a long GC, a starved CPU) while the receiver answered at once. The time
 * the loop was held is not the receiver's: the attempt's deadline leaves it out, up to the request's
 * allowance, so a healthy endpoint is not recorded as timing out (and, after enough of them,
 * disabled). A receiver that does not answer still times out, at its timeout plus no more than the
 * loop's held time and the allowance.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { createSender, type Sender } from '../../src/delivery/sender.ts';
import { holdThread } from '../support/hold-thread.ts';

// The receiver in another process: it must answer while this one is held.
const SERVER = `require('node:http').createServer((q, s) => {
    if (q.url === '/silent') return;
    setTimeout(() => s.end('ok'), Number(new URL(q.url, 'http://x').searchParams.get('delay') || 0));
  }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

let child: ReturnType<typeof spawn>;
let base: string;
const senders: Sender[] = [];
before(async () => {
  child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  base = `http://127.0.0.1:${Number(data.toString().trim())}`;
});
after(async () => {
  for (const s of senders) await s.close();
  child.kill();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newSender(): Sender {
  const s = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
  senders.push(s);
  return s;
}

interface Attempt {
  /** The request's stallAllowanceMs (unset: none). */
  allowance?: number;
  timeoutMs?: number;
  /** How long after the request is handed over the loop is held, and for how long. */
  waitMs?: number;
  holdMs?: number;
}

/** One POST to `path` (a 300 ms timeout unless said), the loop held as `a` says; its result and time. */
async function attempt(sender: Sender, path: string, a: Attempt) {
  const t0 = performance.now();
  const pending = sender.send({
    method: 'POST',
    url: `${base}${path}`,
    headers: {},
    body: '{}',
    timeoutMs: a.timeoutMs ?? 300,
    ...(a.allowance === undefined ? {} : { stallAllowanceMs: a.allowance }),
  });
  if (a.waitMs) await sleep(a.waitMs);
  if (a.holdMs) holdThread(a.holdMs);
  const result = await pending;
  return { result, took: performance.now() - t0 };
}

test('a loop held past the timeout before the request went out: the request is sent and its answer read', async () => {
  // A new sender: held before undici could dial, the request leaves only after the hold.
  const { result } = await attempt(newSender(), '/hook', { allowance: 10_000, holdMs: 900 });
  assert.equal(result.error, null, result.error?.message);
  assert.equal(result.response?.status, 200);
});

test('a loop held for seconds while the answer came: undici does not time the request out either', async () => {
  const sender = newSender();
  const warm = await attempt(sender, '/hook', { allowance: 10_000, timeoutMs: 1_000 });
  assert.equal(warm.result.response?.status, 200, 'a connection is open and warm');
  // undici's headers timer (1 s resolution) is running by the hold; the answer comes during it
  const { result } = await attempt(sender, '/hook?delay=900', {
    allowance: 10_000,
    timeoutMs: 1_000,
    waitMs: 700,
    holdMs: 2_000,
  });
  assert.equal(result.error, null, result.error?.message);
  assert.equal(result.response?.status, 200);
});

test('a receiver that does not answer still times out at its timeout when the loop is free', async () => {
  const { result, took } = await attempt(newSender(), '/silent', { allowance: 10_000 });
  assert.equal(result.error?.kind, 'timeout');
  assert.ok(took >= 290 && took < 1_000, `timed out after ${Math.round(took)} ms`);
  // A loaded machine (other processes on the cores) can keep this thread from running for a while
  // even here, and that is counted and said like any hold: the bound above is what is checked.
  assert.match(result.error!.message, /300 ms timeout(, not counting \d+ ms this process could not run)?$/);
});

test('a receiver that does not answer, the loop held: the held time is added, and said', async () => {
  const { result, took } = await attempt(newSender(), '/silent', {
    allowance: 10_000,
    waitMs: 50,
    holdMs: 700,
  });
  assert.equal(result.error?.kind, 'timeout');
  // 300 ms of the receiver's time plus the ~700 ms held (less up to a tick: 100 ms); 750 ms before
  assert.ok(took >= 850 && took < 2_000, `timed out after ${Math.round(took)} ms`);
  assert.match(result.error!.message, /300 ms timeout, not counting \d+ ms this process could not run/);
});

test('the allowance bounds what a held loop adds: past it the attempt times out', async () => {
  const { result, took } = await attempt(newSender(), '/silent', {
    allowance: 200,
    waitMs: 50,
    holdMs: 1_500,
  });
  assert.equal(result.error?.kind, 'timeout');
  assert.ok(took < 1_550 + 300, `timed out after ${Math.round(took)} ms`);
  // ~1,450 ms held, 200 of it left out: the deadline had passed when the hold ended. Without the
  // bound the deadline would move on by the whole hold (timing out ~200 ms later, inside the
  // bound on `took` above), and the message would say so.
  assert.match(result.error!.message, /300 ms timeout, not counting 200 ms this process could not run$/);
});

test('without an allowance the deadline is wall time, as before', async () => {
  const { result, took } = await attempt(newSender(), '/silent', { waitMs: 50, holdMs: 700 });
  assert.equal(result.error?.kind, 'timeout');
  assert.ok(took < 750 + 300, `timed out after ${Math.round(took)} ms`);
  assert.match(result.error!.message, /300 ms timeout$/);
});
