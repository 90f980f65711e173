/**
 * CallbackQueues.space (src/delivery/callback-queues.ts) after a project's callback found no room
 * among the queued bytes (queued-bytes.ts): what the claim loop's looks at it answer once the
 * project has nothing here. The queues are real, over real queued bytes; the dispatcher's slots are
 * counted by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createCallbackQueues } from '../../src/delivery/callback-queues.ts';
import { createQueuedBytes } from '../../src/delivery/queued-bytes.ts';
import type { HeraldEvent } from '../../src/domain/types.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';

const KiB = 1024;
let ids = 0;
const callback = (projectId: string, payloadBytes: number): ClaimedDelivery =>
  ({
    delivery: { id: `d${ids++}`, projectId, endpointId: null },
    event: { id: `ev${ids++}`, projectId, type: 'c' } as unknown as HeraldEvent,
    payloadJson: 'x'.repeat(payloadBytes),
  }) as unknown as ClaimedDelivery;

function setup() {
  // 64 KiB: a project may hold 48 KiB of it.
  const queuedBytes = createQueuedBytes({ limitBytes: 64 * KiB, projectShare: 0.75, smallShare: 1 / 16 });
  const inFlight = new Map<string, number>();
  const cap = new Map<string, number>();
  const queues = createCallbackQueues({
    config: { ...DEFAULT_DELIVERY, perEndpointConcurrency: 4, claimBatch: 16 },
    clock: Date.now,
    attempt: () => new Promise<void>(() => {}),
    running: () => true,
    projectRoom: (p) => (cap.get(p) ?? 2) - (inFlight.get(p) ?? 0),
    inFlight: (p) => inFlight.get(p) ?? 0,
    // Room in flight for whatever starts.
    takeBytes: () => () => {},
    queuedBytes,
    launch: (p) => {
      inFlight.set(p, (inFlight.get(p) ?? 0) + 1);
    },
    handBack: () => {},
    callbacksInFlight: (p) => inFlight.get(p) ?? 0,
    fewestInFlight: () => Number.POSITIVE_INFINITY,
    bytesFit: () => true,
    projectExists: async () => true,
    onError: (error) => {
      throw error;
    },
  });
  return { queues, queuedBytes, inFlight };
}

test("a refusal from before a project's callbacks all ended does not leave its later callbacks out of claims", () => {
  const { queues, queuedBytes, inFlight } = setup();
  // Another project's queued callbacks hold 30 KiB of the 64: 34 KiB free.
  inFlight.set('other', 2);
  assert.equal(queues.dispatch(callback('other', 30 * KiB), null), true);
  assert.equal(queuedBytes.used, 30 * KiB);
  // Project p at its cap: its 40 KiB callback has no room to wait, and goes back.
  inFlight.set('p', 2);
  assert.equal(queues.dispatch(callback('p', 40 * KiB), null), false);
  assert.equal(queues.space('p'), 0, 'left out of claims until 40 KiB would fit');
  // Its attempts end: nothing of it in flight or queued here. The claim loop looks once more
  // (callbacksLeftOut), then forgets the project: nothing asks for it until a claim brings one.
  inFlight.set('p', 0);
  assert.equal(queues.space('p'), 0);
  // Later a claim brings a small callback of it, which starts at once (a free slot).
  assert.equal(queues.dispatch(callback('p', 1 * KiB), null), true);
  assert.equal(inFlight.get('p'), 1);
  // The 40 KiB refused before would still not fit, but nothing of p waits for it: its callbacks
  // are claimed as any others (before: space 0, its callbacks left out of every claim while the
  // other project's held the queued bytes).
  assert.equal(queues.space('p'), 4);
});
