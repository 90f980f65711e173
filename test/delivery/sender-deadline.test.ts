/**
 * The sender's deadline against a real receiver that never answers (an HTTP server on loopback,
 * listen(0)), kept on a clock the test drives (SenderOptions.clock): its timers run when the test
 * moves the clock on, and the loop is "held" when the test says (time moves on, no timer runs), so
 * what the loop-stall count says was held is exact. Checked: the attempt is pending a millisecond
 * before its deadline and timed out at it, with the held time its message says. So a deadline that
 * fires too late (moved by more than was held, moved with nothing held, the allowance ignored) fails
 * here, as one that fires too early does, whatever the machine's load: no wall time is measured,
 * and undici's own timeouts (the timeout plus the allowance, in real time) are a minute away.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { attemptRecord } from '../../src/delivery/attempt-outcome.ts';
import type { SendResult } from '../../src/delivery/send-types.ts';
import { createSender, type SenderClock } from '../../src/delivery/sender.ts';
import type { Delivery, HeraldEvent } from '../../src/domain/types.ts';

const TIMEOUT = 30_000;

/** Requests the receiver holds, never answered (their sockets are closed at the end). */
const waiting: { req: IncomingMessage; res: ServerResponse }[] = [];
let arrived: (() => void) | null = null;
/** How long the receiver takes on /late-headers and /late-body: past undici's timers were they the timeout alone. */
const LATE_MS = 3_000;
const receiver = createServer((req, res) => {
  if (req.url === '/late-headers') {
    setTimeout(() => res.end('ok'), LATE_MS);
    return;
  }
  if (req.url === '/late-body') {
    res.writeHead(200);
    res.write('o');
    setTimeout(() => res.end('k'), LATE_MS);
    return;
  }
  waiting.push({ req, res });
  arrived?.();
});
let url: string;
before(async () => {
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
after(() => {
  receiver.closeAllConnections();
  receiver.close();
});

/**
 * A clock and its timers as an event loop runs them: `run` moves time on with each timer run when
 * due, in order; `hold` moves it on with none run (the loop held), those that came due running at
 * the next `run`. Starts at 0.
 */
function drivenClock() {
  let now = 0;
  interface Timer {
    at: number;
    fn: () => void;
    every: number;
  }
  const timers = new Set<Timer>();
  const add = (fn: () => void, ms: number, every: number) => {
    const timer = { at: now + ms, fn, every };
    timers.add(timer);
    return () => {
      timers.delete(timer);
    };
  };
  const clock: SenderClock = {
    now: () => now,
    repeat: (fn, ms) => add(fn, ms, ms),
    after: (fn, ms) => add(fn, ms, 0),
  };
  return {
    clock,
    run(ms: number) {
      const end = now + ms;
      for (;;) {
        let next: Timer | null = null;
        for (const t of timers) if (t.at <= end && (next === null || t.at < next.at)) next = t;
        if (next === null) break;
        now = Math.max(now, next.at);
        if (next.every > 0) next.at = now + next.every;
        else timers.delete(next);
        next.fn();
      }
      now = end;
    },
    hold(ms: number) {
      now += ms;
    },
  };
}

/** Lets the loop run what the timers set going (the sender checks its deadline in a setImmediate). */
const settle = () => new Promise((r) => setImmediate(r));

/** A sender whose timers and time are a driven clock's (SenderOptions.clock). */
function drivenSender() {
  const loop = drivenClock();
  const sender = createSender({
    allowNetworks: ['127.0.0.0/8'],
    maxResponseBytes: 1024,
    userAgent: 't',
    clock: loop.clock,
  });
  return { loop, sender };
}

/**
 * Sends one POST (timeout TIMEOUT) to the receiver, which holds it: `reached` resolves once it has
 * arrived, `result` is null while it is pending, `pending` settles with it.
 */
function postHeld(sender: ReturnType<typeof createSender>, allowance: number | undefined) {
  const reached = new Promise<void>((r) => {
    arrived = r;
  });
  let result: SendResult | null = null;
  const pending = sender
    .send({
      method: 'POST',
      url,
      headers: {},
      body: '{}',
      timeoutMs: TIMEOUT,
      ...(allowance === undefined ? {} : { stallAllowanceMs: allowance }),
    })
    .then((r) => {
      result = r;
    });
  return { reached, result: () => result, pending };
}

/**
 * One POST with the sender on a driven clock, the receiver holding it; `held` ms of the loop held
 * (as the stall count counts it) once the request has arrived. Returns the clock and the result so
 * far (null while pending).
 */
async function attempt(allowance: number | undefined, held: number) {
  const { loop, sender } = drivenSender();
  const sent = postHeld(sender, allowance);
  await sent.reached; // a condition, however long the machine takes
  loop.run(1_000); // on a tick
  // a hold right after a tick is counted less the tick's interval (loop-stalls.ts)
  if (held > 0) loop.hold(held + 100);
  await settle();
  return {
    loop,
    result: sent.result,
    close: async () => {
      await sent.pending;
      await sender.close();
    },
  };
}

/** Moves the clock to `at` ms after the start, lets the sender act, and says whether it has finished. */
async function runTo(a: Awaited<ReturnType<typeof attempt>>, at: number, start: number) {
  a.loop.run(at - start);
  await settle();
  return a.result();
}

test('nothing held: the attempt is timed out at exactly its timeout, nothing said left out', async () => {
  const a = await attempt(10_000, 0);
  assert.equal(await runTo(a, TIMEOUT - 1, 1_000), null, 'pending a millisecond before');
  const result = await runTo(a, TIMEOUT, TIMEOUT - 1);
  assert.equal(result?.error?.kind, 'timeout');
  assert.equal(result?.error?.message, `the attempt took longer than its ${TIMEOUT} ms timeout`);
  await a.close();
});

test('2,000 ms held: timed out at the timeout plus exactly that, and said', async () => {
  const a = await attempt(10_000, 2_000);
  // the held loop ended at 3,100 ms; the deadline's check at the timeout moves it on by 2,000
  assert.equal(await runTo(a, TIMEOUT, 3_100), null, 'moved on at the timeout');
  assert.equal(await runTo(a, TIMEOUT + 2_000 - 1, TIMEOUT), null, 'pending a millisecond before');
  const result = await runTo(a, TIMEOUT + 2_000, TIMEOUT + 2_000 - 1);
  assert.equal(result?.error?.kind, 'timeout');
  assert.equal(
    result?.error?.message,
    `the attempt took longer than its ${TIMEOUT} ms timeout, not counting 2000 ms this process could not run`,
  );
  await a.close();
});

test('2,000 ms held, 1,500 allowed: timed out at the timeout plus the allowance, and said', async () => {
  const a = await attempt(1_500, 2_000);
  assert.equal(await runTo(a, TIMEOUT, 3_100), null, 'moved on at the timeout');
  assert.equal(await runTo(a, TIMEOUT + 1_500 - 1, TIMEOUT), null, 'pending a millisecond before');
  const result = await runTo(a, TIMEOUT + 1_500, TIMEOUT + 1_500 - 1);
  assert.equal(
    result?.error?.message,
    `the attempt took longer than its ${TIMEOUT} ms timeout, not counting 1500 ms this process could not run`,
  );
  await a.close();
});

test('2,000 ms held, no allowance: timed out at the timeout, nothing left out', async () => {
  const a = await attempt(undefined, 2_000);
  assert.equal(await runTo(a, TIMEOUT - 1, 3_100), null, 'pending a millisecond before');
  const result = await runTo(a, TIMEOUT, TIMEOUT - 1);
  assert.equal(result?.error?.message, `the attempt took longer than its ${TIMEOUT} ms timeout`);
  await a.close();
});

/**
 * The record a result makes for an endpoint's delivery (attempt-outcome.ts): its error, what comes
 * next, and whether it counts against the endpoint (its consecutive failures, auto-disable).
 */
const recordOf = (result: SendResult) => {
  const delivery = {
    id: 'dlv_1',
    projectId: 'prj_1',
    eventId: 'evt_1',
    endpointId: 'ep_1',
    url,
    attempts: 0,
  };
  return attemptRecord({
    delivery: delivery as Delivery,
    event: { id: 'evt_1', projectId: 'prj_1', type: 't', payload: {} } as unknown as HeraldEvent,
    request: { method: 'POST', url, headers: {}, body: '{}' },
    result,
    schedule: [1],
    jitter: 0,
    random: () => 0.5,
    countsForEndpoint: true,
    workerId: 'w',
    now: 0,
  });
};

test('a timeout or allowance that is not a number the deadline can keep is refused, naming it; nothing is sent, and it does not count against the endpoint', async () => {
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
  const before = waiting.length;
  const send = (timeoutMs: number, stallAllowanceMs?: number) =>
    sender.send({
      method: 'POST',
      url,
      headers: {},
      body: '{}',
      timeoutMs,
      ...(stallAllowanceMs === undefined ? {} : { stallAllowanceMs }),
    });
  for (const [timeout, allowance, field] of [
    [Number.NaN, undefined, 'timeoutMs'],
    [-5, undefined, 'timeoutMs'],
    [TIMEOUT, -1, 'stallAllowanceMs'],
    [TIMEOUT, Number.NaN, 'stallAllowanceMs'],
    [TIMEOUT, Number.POSITIVE_INFINITY, 'stallAllowanceMs'],
  ] as const) {
    const result = await send(timeout, allowance);
    assert.equal(result.error?.kind, 'internal', `${timeout}, ${allowance}: ${result.error?.message}`);
    assert.match(result.error!.message, new RegExp(`^${field} must be`));
    assert.equal(result.response, null);
    // Herald's refusal, not the receiver's failure: recorded and retried on its schedule, but its
    // endpoint is not brought nearer to being disabled (until 2026-12-07 it was: 'failure').
    const record = recordOf(result);
    assert.equal(record.attempt.error?.kind, 'internal');
    assert.equal(record.next.status, 'pending');
    assert.equal(record.endpointEffect, 'none', `${timeout}, ${allowance}`);
  }
  await sender.close();
  assert.equal(waiting.length, before, 'no request reached the receiver');
});

test("undici's own timeouts leave the allowance out too: a receiver slower than the timeout, not the allowance, is read", async () => {
  // The sender's deadline is on a clock nobody moves: only undici's timers (real time, for headers
  // and between body chunks) could time these out. Timed out at the timeout alone (1 s; undici's
  // timers have a 1 s resolution) they would fail before the receiver's 3 s answer; with the
  // allowance they have 61 s. A loaded machine can only make undici's timers later.
  const { sender } = drivenSender();
  const base = url.replace(/\/hook$/, '');
  const send = (path: string) =>
    sender.send({
      method: 'POST',
      url: `${base}${path}`,
      headers: {},
      body: '{}',
      timeoutMs: 1_000,
      stallAllowanceMs: 60_000,
    });
  const [headers, body] = await Promise.all([send('/late-headers'), send('/late-body')]);
  await sender.close();
  assert.equal(headers.error, null, headers.error?.message);
  assert.equal(headers.response?.body, 'ok');
  assert.equal(body.error, null, body.error?.message);
  assert.equal(body.response?.body, 'ok');
});

test('a hold under way when the attempt began is left out from then on only', async () => {
  const { loop, sender } = drivenSender();
  loop.run(1_000); // on a tick
  loop.hold(115); // 15 ms past the next tick: not yet a stall (MIN_STALL_MS)
  const sent = postHeld(sender, 10_000);
  // The hold goes on to 1,300: counted 200 ms from the tick's due time, 185 of them the attempt's.
  loop.hold(185);
  await sent.reached;
  const a = { loop, result: sent.result, close: async () => {} };
  const start = 1_115;
  assert.equal(await runTo(a, start + TIMEOUT, 1_300), null, 'moved on at the timeout');
  assert.equal(
    await runTo(a, start + TIMEOUT + 185 - 1, start + TIMEOUT),
    null,
    'pending a millisecond before',
  );
  const timedOut = await runTo(a, start + TIMEOUT + 185, start + TIMEOUT + 185 - 1);
  assert.equal(
    timedOut?.error?.message,
    `the attempt took longer than its ${TIMEOUT} ms timeout, not counting 185 ms this process could not run`,
  );
  await sent.pending;
  await sender.close();
});

test('a lateness under way when the attempt began that never became a hold takes nothing off a later hold', async () => {
  const { loop, sender } = drivenSender();
  loop.run(1_000); // on a tick
  loop.hold(115); // the next tick 15 ms late as the attempt begins: under MIN_STALL_MS, no hold
  const sent = postHeld(sender, 10_000);
  await sent.reached;
  const start = 1_115;
  loop.run(1_000); // the late tick runs (15 ms: not counted), then on a tick at 2,115
  loop.hold(100 + 200); // a hold of 200 ms, all of it during the attempt
  const a = { loop, result: sent.result, close: async () => {} };
  assert.equal(await runTo(a, start + TIMEOUT, 2_415), null, 'moved on at the timeout');
  assert.equal(
    await runTo(a, start + TIMEOUT + 200 - 1, start + TIMEOUT),
    null,
    'pending a millisecond before the timeout plus all that was held',
  );
  const timedOut = await runTo(a, start + TIMEOUT + 200, start + TIMEOUT + 200 - 1);
  assert.equal(
    timedOut?.error?.message,
    `the attempt took longer than its ${TIMEOUT} ms timeout, not counting 200 ms this process could not run`,
  );
  await sent.pending;
  await sender.close();
});
