/**
 * The rate gate's endpoints asked for first (ClaimOptions.first) when a claim is cut by its bytes
 * (HERALD_DELIVERY_BYTES_IN_FLIGHT): a real dispatcher on a real SQLite store, the real sender and a
 * loopback receiver; the store's claims are watched, not changed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimOptions, Store } from '../../src/store/store.ts';
import { endpointInput } from '../store/helpers.ts';
import { acceptLargeEvents } from '../support/large-events.ts';
import { until } from '../support/wait-until.ts';
import { startReceiver } from './receiver.ts';

const KiB = 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A project with one endpoint at `url/name`, rate-limited to one a second unless `rateLimit` is null. */
async function endpoint(
  store: Store,
  name: string,
  url: string,
  rateLimit: { perSecond: number; burst: number } | null = { perSecond: 1, burst: 1 },
) {
  const projectId = (await store.createProject({ name }, Date.now())).id;
  const endpoint = await store.createEndpoint(
    endpointInput(projectId, { url: `${url}/${name}`, name, timeoutMs: 10_000, rateLimit }),
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    Date.now(),
  );
  return { projectId, id: endpoint.id };
}

test('an endpoint asked for first that a claim cut by its bytes never reached keeps its put-backs asked for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-claim-first-'));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  cleanups.push(() => sender.close());
  // Requests to /busy/… are answered after a second, the others at once.
  const r = await startReceiver((req) => ({ delayMs: req.url.startsWith('/busy') ? 1_000 : 0 }));
  cleanups.push(() => r.close());
  const got = (path: string) => r.requests.filter((q) => q.url === path).length;
  const base = r.url.replace(/\/hook$/, '');
  const large = await endpoint(store, 'large', base);
  const small = await endpoint(store, 'small', base);
  const busy = await endpoint(store, 'busy', base, null);
  // Each limited endpoint's second delivery is put back for a token, due a second later.
  await acceptLargeEvents(store, large.projectId, 2, 300 * KiB);
  await acceptLargeEvents(store, small.projectId, 2, 10);
  const claims: { first: string[]; got: string[] }[] = [];
  const claim = store.claimDueDeliveries.bind(store);
  store.claimDueDeliveries = async (o: ClaimOptions) => {
    const claimed = await claim(o);
    claims.push({
      first: (o.first ?? []).map((f) => f.endpointId),
      got: claimed.map((c) => c.delivery.endpointId ?? ''),
    });
    return claimed;
  };
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: {
      ...DEFAULT_DELIVERY,
      pollIntervalMs: 5_000,
      retrySchedule: [60],
      retryJitter: 0,
      allowNetworks: ['127.0.0.0/8'],
      bytesInFlight: 256 * KiB,
      concurrency: 16,
    },
    workerId: 'w1',
    hooks: {},
  });
  cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
  await dispatcher.start();
  // Meanwhile 15 of the 16 slots are taken for a second: no claim until both put-backs are due,
  // then one claim asks for both first, and the large endpoint's 300 KB event alone fills its 256 KiB.
  await until('the put-backs', () => got('/large') === 1 && got('/small') === 1);
  await acceptLargeEvents(store, busy.projectId, 15, 10);
  await until('both endpoints got both', () => got('/large') === 2 && got('/small') === 2, 10_000);
  // Each put-back of the small endpoint is claimed by a claim that asked for it first, not left
  // to the due order behind whatever older backlog there is.
  const log = claims.map(
    (c) =>
      `first [${c.first.map((id) => (id === large.id ? 'L' : id === small.id ? 'S' : 'B'))}] got [${c.got.map((id) => (id === large.id ? 'L' : id === small.id ? 'S' : 'B'))}]`,
  );
  const cut = claims.findIndex((c) => c.first.includes(small.id) && !c.got.includes(small.id));
  assert.ok(cut >= 0, `no claim cut the small endpoint: ${log.join('; ')}`);
  const next = claims.findIndex((c, i) => i > cut && c.got.includes(small.id));
  assert.ok(
    claims[next]!.first.includes(small.id),
    `claimed without being asked for first: ${log.join('; ')}`,
  );
});
