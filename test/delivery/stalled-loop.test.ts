/**
 * An attempt whose own process could not run: the event loop held by synchronous work (a claim
 * reading large payloads, a long GC, a starved CPU) while the receiver answered at once. The time
 * the loop was held is not the receiver's: the attempt's deadline leaves it out, up to the request's
 * allowance, so a healthy endpoint is not recorded as timing out (and, after enough of them,
 * disabled). A receiver that does not answer still times out, at its timeout plus no more than the
 * loop's held time and the allowance.
 *
 * Nothing here bounds wall time alone: the machine may be loaded, and this thread's time then goes
 * to other processes, counted as held (loop-stalls.ts). What is checked holds under any load: the
 * time an attempt took, less what its message says was left out, is at least its timeout; an answer
 * is waited for as a condition (a file the receiver writes), not a window. That a deadline fires no
 * later than it should (moved by what was held, up to the allowance, and no more) is checked on a
 * clock the test drives: sender-deadline.test.ts and test/unit/attempt-deadline.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { createSender, type Sender } from '../../src/delivery/sender.ts';
import { holdThread, holdThreadUntil } from '../support/hold-thread.ts';

// The receiver in another process: it must answer while this one is held. /silent never answers;
// /when?go=A&done=B answers once file A exists, and writes file B once its answer is sent (in this
// process's socket: loopback).
const SERVER = `const fs = require('node:fs');
  require('node:http').createServer((q, s) => {
    if (q.url === '/silent') return;
    const p = new URL(q.url, 'http://x').searchParams;
    const t = setInterval(() => {
      if (!fs.existsSync(p.get('go'))) return;
      clearInterval(t);
      s.end('ok', () => fs.writeFileSync(p.get('done'), ''));
    }, 5);
  }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

let child: ReturnType<typeof spawn>;
let base: string;
/** A receiver in this process, answering at once: its time is this thread's, held time included. */
let local: Server;
let localBase: string;
let dir: string;
const senders: Sender[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stalled-loop-'));
  child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  base = `http://127.0.0.1:${Number(data.toString().trim())}`;
  local = createServer((_q, s) => s.end('ok')).listen(0, '127.0.0.1');
  await once(local, 'listening');
  localBase = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of senders) await s.close();
  child.kill();
  local.close();
  rmSync(dir, { recursive: true, force: true });
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

/** One POST to `url` (a 300 ms timeout unless said), the loop held as `a` says; its result and time. */
async function attempt(sender: Sender, url: string, a: Attempt) {
  const t0 = performance.now();
  const pending = sender.send({
    method: 'POST',
    url,
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

/**
 * The time a timed-out attempt took, less the held time its message says was left out, is at least
 * its timeout, but for the deadline's smallest move (a hold ending that close to the deadline does
 * not move it) and a millisecond of rounding: the receiver had all its time. Holds on any load. No
 * upper bound does: the count leaves out holds shorter than a tick, and on a loaded machine those
 * add up (245 ms over a 300 ms timeout at load 25), charged to the receiver as they should be.
 */
function assertTimedOutAfter(timeoutMs: number, took: number, message: string): void {
  const held = Number(/not counting (\d+) ms/.exec(message)?.[1] ?? 0);
  const charged = took - held;
  assert.ok(
    charged >= timeoutMs - 20 - 1,
    `took ${Math.round(took)} ms, ${held} ms of it left out: ${Math.round(charged)} ms charged to the receiver`,
  );
}

test('a loop held past the timeout before the request went out: the request is sent and its answer read', async () => {
  // A new sender: held before undici could dial, the request leaves only after the hold. The
  // receiver is in this process: after the hold, its time to answer is this thread's, counted as
  // held when the machine keeps the thread from running (a receiver elsewhere may be starved too).
  const { result } = await attempt(newSender(), `${localBase}/hook`, {
    allowance: 10_000,
    timeoutMs: 1_000,
    holdMs: 1_500,
  });
  assert.equal(result.error, null, result.error?.message);
  assert.equal(result.response?.status, 200);
});

test('a loop held for seconds while the answer came: undici does not time the request out either', async () => {
  const sender = newSender();
  const go = join(dir, 'go');
  const done = join(dir, 'done');
  writeFileSync(go, '');
  const warmDone = join(dir, 'warm');
  const warm = await attempt(sender, `${base}/when?go=${go}&done=${warmDone}`, {
    allowance: 10_000,
    timeoutMs: 60_000,
  });
  assert.equal(warm.result.response?.status, 200, 'a connection is open and warm');
  rmSync(go);
  // undici's headers timer (1 s resolution) is running by the hold; the receiver answers once the
  // hold has begun, and the hold lasts 2 s and until the answer is in this process's socket.
  const t0 = performance.now();
  const pending = sender.send({
    method: 'POST',
    url: `${base}/when?go=${go}&done=${done}`,
    headers: {},
    body: '{}',
    timeoutMs: 1_000,
    stallAllowanceMs: 10_000,
  });
  await sleep(700);
  writeFileSync(go, '');
  holdThreadUntil(() => existsSync(done), 2_000);
  const held = performance.now() - t0;
  const result = await pending;
  assert.equal(result.error, null, result.error?.message);
  assert.equal(result.response?.status, 200);
  assert.ok(held > 2_700, 'held past the timeout with the answer waiting');
});

test('a receiver that does not answer still times out at its timeout when the loop is free', async () => {
  const { result, took } = await attempt(newSender(), `${base}/silent`, { allowance: 10_000 });
  assert.equal(result.error?.kind, 'timeout');
  // A loaded machine (other processes on the cores) can keep this thread from running for a while
  // even here, and that is counted and said like any hold: the time less what is said is the timeout.
  // Not checked: that it is no more (see assertTimedOutAfter).
  assert.match(result.error!.message, /300 ms timeout(, not counting \d+ ms this process could not run)?$/);
  assertTimedOutAfter(300, took, result.error!.message);
});

test('a receiver that does not answer, the loop held: the held time is added, and said', async () => {
  const { result, took } = await attempt(newSender(), `${base}/silent`, {
    allowance: 10_000,
    waitMs: 50,
    holdMs: 700,
  });
  assert.equal(result.error?.kind, 'timeout');
  // 300 ms of the receiver's time plus the ~700 ms held (less up to a tick: 100 ms); 750 ms before
  assert.ok(took >= 850, `timed out after ${Math.round(took)} ms`);
  assert.match(result.error!.message, /300 ms timeout, not counting \d+ ms this process could not run/);
  assertTimedOutAfter(300, took, result.error!.message);
});

test('the allowance bounds what a held loop adds: past it the attempt times out', async () => {
  const { result } = await attempt(newSender(), `${base}/silent`, {
    allowance: 200,
    waitMs: 50,
    holdMs: 1_500,
  });
  assert.equal(result.error?.kind, 'timeout');
  // ~1,450 ms held, 200 of it left out: the deadline had passed when the hold ended. Without the
  // bound the deadline would move on by the whole hold, and the message would say so.
  assert.match(result.error!.message, /300 ms timeout, not counting 200 ms this process could not run$/);
});

test('without an allowance the deadline is wall time, as before', async () => {
  const { result, took } = await attempt(newSender(), `${base}/silent`, { waitMs: 50, holdMs: 700 });
  assert.equal(result.error?.kind, 'timeout');
  // Nothing left out: a deadline moved by the hold would say so here.
  assert.match(result.error!.message, /300 ms timeout$/);
  assert.ok(took >= 750, `timed out after ${Math.round(took)} ms, before the hold ended`);
});
