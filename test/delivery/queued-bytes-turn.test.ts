/**
 * A delivery whose payload does not fit among the queued bytes (queued-bytes.ts) while other
 * projects keep their queues busy still gets its room: a real dispatcher (two on PostgreSQL) on a
 * real SQLite or PostgreSQL store, the real sender and a loopback receiver.
 *
 * One project's endpoint takes a stream of small distinct events, faster than it answers, so its
 * queue always holds some; another project's endpoint gets one event larger than the room the
 * stream leaves (larger than the whole HERALD_DELIVERY_BYTES_IN_FLIGHT, or only than what is left
 * of it). Before, such a delivery fitted only with nothing queued at all: it was handed back at
 * every claim that brought it and its endpoint left out of claims while the stream went on, for
 * as long as it went on. The stream stops once the large one arrives, or after STREAM_CAP of its
 * own have been sent (then the large one has starved).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { endpointInput } from '../store/helpers.ts';
import { filePostgres } from '../support/postgres.ts';
import { until } from '../support/wait-until.ts';
import { startReceiver } from './receiver.ts';

const KiB = 1024;
const LIMIT = 64 * KiB;
const SMALL = 4 * KiB;
/** Stream deliveries sent before the large one counts as starved (~6 s at the receiver's pace). */
const STREAM_CAP = 400;
const STREAM_ENDPOINTS = 4;
const postgres = filePostgres();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const accept = (store: Store, projectId: string, type: string, bytes: number, n: number) =>
  store.acceptEvents(
    projectId,
    [{ type, payload: { n, blob: 'x'.repeat(bytes) }, test: false, idempotencyKey: null, callbackUrl: null }],
    Date.now(),
  );

const cases = [
  { name: 'larger than the whole limit', bigBytes: 100 * KiB },
  { name: 'within the limit and larger than a project share', bigBytes: 56 * KiB },
];

for (const backend of ['sqlite', 'postgres'] as const) {
  for (const { name, bigBytes } of cases) {
    test(`${backend}: a payload ${name} is delivered while another project's stream keeps its queue busy`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-queued-turn-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const url =
        backend === 'sqlite' ? `sqlite:${join(dir, 'herald.db')}` : await (await postgres()).createDatabase();
      const store = await openStore(url);
      cleanups.push(() => store.close());
      const sender = createSender({
        allowNetworks: ['127.0.0.0/8'],
        maxResponseBytes: 65536,
        userAgent: 'test',
      });
      cleanups.push(() => sender.close());
      // The stream's endpoint answers in 20 ms, one at a time: ~50/s, fed faster than that.
      const r = await startReceiver((req) =>
        req.url.endsWith('/stream') ? { delayMs: 100 } : { status: 200 },
      );
      cleanups.push(() => r.close());

      const busy = (await store.createProject({ name: 'busy' }, Date.now())).id;
      const large = (await store.createProject({ name: 'large' }, Date.now())).id;
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      for (let i = 0; i < STREAM_ENDPOINTS; i++) {
        await store.createEndpoint(
          endpointInput(busy, {
            url: `${r.url}/${i}/stream`,
            name: `s${i}`,
            eventTypes: ['s'],
            timeoutMs: 10_000,
          }),
          secret,
          Date.now(),
        );
      }
      await store.createEndpoint(
        endpointInput(large, { url: `${r.url}/large`, name: 'large', eventTypes: ['l'], timeoutMs: 10_000 }),
        secret,
        Date.now(),
      );
      const sent = (path: string) => r.requests.filter((q) => q.url.endsWith(path)).length;

      const config = {
        ...DEFAULT_DELIVERY,
        pollIntervalMs: 50,
        allowNetworks: ['127.0.0.0/8'],
        concurrency: 8,
        perEndpointConcurrency: 4,
        perProjectConcurrency: 6,
        claimBatch: 16,
        bytesInFlight: LIMIT,
      };
      for (const workerId of backend === 'postgres' ? ['w1', 'w2'] : ['w1']) {
        const dispatcher = createDispatcher({ store, send: sender.send, config, workerId });
        cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
        await dispatcher.start();
      }

      // The stream: three small events every 20 ms, until the large one arrives or the cap.
      let fed = 0;
      let stop = false;
      const feeding = (async () => {
        while (!stop && sent('/stream') < STREAM_CAP && sent('/large') === 0) {
          for (let i = 0; i < 3; i++) await accept(store, busy, 's', SMALL, fed++);
          await sleep(20);
        }
      })();
      cleanups.push(() => {
        stop = true;
        return feeding;
      });
      await until('the stream queued', () => sent('/stream') >= 10, 30_000);
      await accept(store, large, 'l', bigBytes, 0);
      await feeding;

      assert.equal(
        sent('/large'),
        1,
        `the ${bigBytes / KiB} KiB payload was not delivered while ${sent('/stream')} of the stream's were (${fed} fed)`,
      );
      t.diagnostic(`the large one arrived after ${sent('/stream')} of the stream's (${fed} fed)`);
    });
  }
}
