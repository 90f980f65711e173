/**
 * A queued delivery goes back to the store once it has waited half its lease (endpoint-queues.ts),
 * also when its endpoint waits for room among the bytes in flight (byte-budget.ts). That was looked
 * at only when the endpoint started, and one waiting for room starts only when the room is there:
 * held back by its project's share while the project's attempt that passed it ran longer than its
 * lease, it stayed queued past it. Its own process claimed it again (the lease had run out) and
 * queued the new claim behind it; when the room came it handed the old claim back, which freed the
 * row of the new one as that was sent: the delivery was due again while its attempt was out, and
 * any worker could claim it and send it again (this one claimed it a third time, and saw the
 * attempt out). A real SQLite store, the real sender and a loopback receiver.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-bytes-waiter-lease-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One timeline: an endpoint `/waiting` (taking `waitingTypes`), a slow one holding the project's
 * bytes 7 s and a hanging one; `before` accepted first, then a 60 KiB `large` delivery for /waiting
 * that fits only when its project holds nothing; at 6 s a hanging attempt passes it and holds the
 * project's bytes past its half lease (8 s) and its lease (16 s). Resolves with how many requests
 * /waiting got and the dispatcher's lease errors (a claim finding an attempt of its delivery out).
 */
async function waitingTimeline(
  file: string,
  waitingTypes: string[],
  before: ReturnType<typeof eventInput>[],
  requests: number,
): Promise<{ sent: number; leaseErrors: string[] }> {
  const store = await openStore(`sqlite:${join(dir, file)}`);
  const receiver = await startReceiver((req) => {
    if (req.url.endsWith('/hang')) return { hang: true };
    if (req.url.endsWith('/slow')) return { status: 200, delayMs: 7_000 };
    // Out a while: a claim made meanwhile finds it out, if its row is due.
    return { status: 200, delayMs: 500 };
  });
  const errors: string[] = [];
  const sender = createSender({
    allowNetworks: ['127.0.0.1/32'],
    maxResponseBytes: 65536,
    userAgent: 'test',
  });
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  try {
    const mine = await store.createProject({ name: 'mine' }, Date.now());
    for (const [path, eventTypes, timeoutMs] of [
      ['waiting', waitingTypes, undefined],
      ['slow', ['small'], 10_000],
      ['hang', ['hold'], 11_000],
    ] as const) {
      await store.createEndpoint(
        endpointInput(mine.id, {
          url: `${receiver.url}/${path}`,
          eventTypes: [...eventTypes],
          ...(timeoutMs ? { timeoutMs } : {}),
        }),
        secret,
        Date.now(),
      );
    }
    // 100 KiB in flight, half of it a project's share: a 60 KiB body fits only when its project
    // holds nothing. A 16 s lease (11 s timeouts, the 5 s margin): a delivery with a 1 s timeout
    // may wait 8 s.
    const dispatcher = capDispatcher(
      store,
      sender.send,
      {
        pollIntervalMs: 50,
        allowNetworks: ['127.0.0.1/32'],
        bytesInFlight: 100 * 1024,
        concurrency: 64,
        perProjectConcurrency: 32,
        perEndpointConcurrency: 2,
        leaseMs: 16_000,
        defaultTimeoutMs: 1_000,
        maxTimeoutMs: 11_000,
      },
      { onError: (error, during) => errors.push(`${during}: ${String(error)}`) },
    );
    const blob = 'x'.repeat(60 * 1024);
    for (const event of before) await store.acceptEvents(mine.id, [event], Date.now());
    await store.acceptEvents(mine.id, [eventInput('large', { payload: { blob } })], Date.now());
    await dispatcher.start();
    try {
      // At 6 s a small attempt of the project passes it and holds the project's bytes 11 s (its
      // receiver never answers): past the waiting delivery's half lease (8 s) and its lease (16 s).
      await new Promise((r) => setTimeout(r, 6_000));
      await store.acceptEvents(mine.id, [eventInput('hold', { payload: { n: 1 } })], Date.now());
      await receiver.waitFor(requests, 30_000);
      // Its attempt out (500 ms), and claims going on meanwhile.
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      await dispatcher.stop({ graceMs: 1_000 });
    }
    return {
      sent: receiver.requests.filter((r) => r.url.endsWith('/waiting')).length,
      leaseErrors: errors.filter((e) => e.startsWith('lease')),
    };
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
}

// At once: each test has a store, a receiver and a dispatcher of its own, and each is ~18 s of
// waiting on its timeline (the slow and hanging attempts, the half lease), not work.
describe("a waiting delivery's half lease", { concurrency: true }, () => {
  test('a delivery waiting for room for its body past half its lease goes back to the store, and is sent only under a lease of its own', async () => {
    // The slow endpoint's small attempt holds its project's bytes for 7 s: the large delivery
    // waits for room from the start.
    const { sent, leaseErrors } = await waitingTimeline(
      'herald.db',
      ['large'],
      [eventInput('small', { payload: { n: 0 } })],
      3,
    );
    assert.equal(sent, 1);
    // Before: claimed a third time while its attempt was out (an attempt of this claim is out).
    assert.deepEqual(leaseErrors, []);
  });

  test('a delivery that begins to wait for room as its view is read again goes back at half its lease too', async () => {
    // Queued behind its endpoint's own two attempts (two slots per endpoint), not for room: when they
    // end its view is older than QUEUED_VIEW_MAX_AGE_MS, and its queue asks for room before the view
    // is read again (endpoint-queues.ts start). That wait armed no half-lease timer: held back as in
    // the test above, it stayed queued 16 s, and this process claimed it again at its lease's end.
    // The two first attempts end at 500 ms; the small one to /slow holds the project's bytes.
    const { sent, leaseErrors } = await waitingTimeline(
      'herald-stale-view.db',
      ['first', 'large'],
      [
        eventInput('small', { payload: { n: 0 } }),
        eventInput('first', { payload: { n: 0 } }),
        eventInput('first', { payload: { n: 1 } }),
      ],
      5,
    );
    assert.equal(sent, 3);
    assert.deepEqual(leaseErrors, []);
  });
});
