/**
 * `node bench/renew-lookup.ts [--rounds=N]`: what the dispatcher's renew (endpoint-queues.ts: is
 * this claimed delivery queued here under an older claim?) costs per claimed delivery, beside what
 * the claim itself costs per delivery, in the same run. Seconds, no servers.
 *
 * - the claim: a real SQLite store in a temp directory, 4 endpoints with a backlog of 20,800 due
 *   deliveries (~1 KiB events), claimed 256 at a time (the default claimBatch) as the claim loop
 *   does; CPU time of claimDueDeliveries per claimed delivery (the process's, user and system:
 *   the machine's other load left out; so are the renews').
 * - renew() per claimed delivery (real claimed deliveries, nothing starts): of an endpoint with no
 *   queue (one map lookup: most claims); of an endpoint with a queue it is not in (the whole queue
 *   looked through), 63 queued (the most a claimed endpoint has: one with 64 is left out of
 *   claims) and 320 (claimBatch + perEndpointConcurrency, the most a queue holds); queued last of
 *   320 (found at the end, its entry replaced).
 * - a claim of 256 of one endpoint onto its 63 queued, all pushed: the renews' share (the pass less
 *   the same pushes alone), interleaved with the pushes as dispatch-batch.ts did before 25fb541f
 *   (each renew looked through those the batch had pushed before it) and all before them (now).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DELIVERY } from '../src/config/config-types.ts';
import { createEndpointQueues } from '../src/delivery/endpoint-queues.ts';
import { createQueuedBytes } from '../src/delivery/queued-bytes.ts';
import { openStore } from '../src/store/open-store.ts';
import type { ClaimedDelivery } from '../src/store/store.ts';
import { endpointInput, eventInput } from '../test/store/helpers.ts';
import { type Cell, formatTable } from './lib/table.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const ROUNDS = Math.max(1, Number(values.rounds));
const CLAIM = DEFAULT_DELIVERY.claimBatch;
const QUEUE = DEFAULT_DELIVERY.claimBatch + DEFAULT_DELIVERY.perEndpointConcurrency;
const EVENTS = 5_200; // x 4 endpoints: 20,800 deliveries, 82 claims of 256
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** CPU microseconds (user and system) of this process since `from`: the machine's other load left out. */
const cpuUs = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return used.user + used.system;
};

const dir = mkdtempSync(join(tmpdir(), 'herald-renew-bench-'));
const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
const rows: Cell[][] = [];
try {
  const now = Date.now();
  const project = await store.createProject({ name: 'p' }, now);
  const endpoints = [];
  for (let i = 0; i < 4; i++)
    endpoints.push(
      await store.createEndpoint(endpointInput(project.id, { url: 'http://127.0.0.1:9/' }), SECRET, now),
    );
  for (let i = 0; i < EVENTS; i += 100)
    await store.acceptEvents(
      project.id,
      Array.from({ length: 100 }, () =>
        eventInput('order.created', { payload: { n: i, pad: 'x'.repeat(900) } }),
      ),
      now,
    );

  // The claim path: every due delivery claimed, 256 at a time.
  const claimed: ClaimedDelivery[] = [];
  const claimStart = performance.now();
  const claimCpu = process.cpuUsage();
  let claims = 0;
  for (;;) {
    const batch = await store.claimDueDeliveries({ limit: CLAIM, leaseMs: 60_000, now, workerId: 'w' });
    if (batch.length === 0) break;
    claims++;
    claimed.push(...batch);
  }
  const claimMs = performance.now() - claimStart;
  const claimUs = cpuUs(claimCpu) / claimed.length;

  // One endpoint's queue, with real claimed deliveries; nothing starts (no slot).
  const ep = endpoints[0]!;
  const target = (await store.getDispatchEndpoints([{ projectId: project.id, endpointId: ep.id }], now)).get(
    ep.id,
  )!;
  const ofEp = claimed.filter((c) => c.delivery.endpointId === ep.id);
  const otherEp = claimed.filter((c) => c.delivery.endpointId !== ep.id).slice(0, CLAIM);
  const newQueues = () =>
    createEndpointQueues({
      store,
      config: { leaseMs: 60_000, retrySchedule: DEFAULT_DELIVERY.retrySchedule },
      clock: Date.now,
      attempt: async () => {},
      timeoutOf: () => 10_000,
      running: () => true,
      canStart: () => false,
      projectRoom: () => 0,
      inFlight: () => 1,
      ofEndpoint: () => 1,
      takeBytes: () => null,
      forgetBytes: () => {},
      waitsForBytes: () => false,
      queuedBytes: createQueuedBytes({ limitBytes: 1024 * 1024 * 1024, projectShare: 1, smallShare: 1 }),
      launch: () => {},
      onError: (error) => {
        throw error;
      },
    });
  /** Queues holding the first `n` of the endpoint's deliveries. */
  const queuedWith = (n: number) => {
    const queues = newQueues();
    for (const c of ofEp.slice(0, n)) if (!queues.push(c, target, now, null)) throw new Error('not queued');
    return queues;
  };
  /** Microseconds per delivery of `pass` over `count` deliveries: the best of ROUNDS rounds of ~200 ms. */
  const timed = (count: number, pass: () => void): number => {
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < ROUNDS; r++) {
      let calls = 0;
      const start = performance.now();
      const cpu = process.cpuUsage();
      while (performance.now() - start < 200) {
        pass();
        calls += count;
      }
      best = Math.min(best, cpuUs(cpu) / calls);
    }
    return best;
  };
  const renewAll = (queues: ReturnType<typeof newQueues>, list: ClaimedDelivery[], expect: boolean) => () => {
    for (const c of list) if (queues.renew(c) !== expect) throw new Error('renew answered otherwise');
  };
  const row = (what: string, us: number) => rows.push([what, us, (100 * us) / claimUs]);

  row('renew, endpoint with no queue (most claims)', timed(CLAIM, renewAll(queuedWith(0), otherEp, false)));
  // A claim leaves out endpoints with perEndpointConcurrency (64) queued: 63 at most before it.
  const before = DEFAULT_DELIVERY.perEndpointConcurrency - 1;
  const notQueued = ofEp.slice(QUEUE, QUEUE + CLAIM);
  row(`renew, not queued, queue of ${before}`, timed(CLAIM, renewAll(queuedWith(before), notQueued, false)));
  row(
    `renew, not queued, queue of ${QUEUE} (full)`,
    timed(CLAIM, renewAll(queuedWith(QUEUE), notQueued, false)),
  );
  const last = Array.from({ length: CLAIM }, () => ofEp[QUEUE - 1]!);
  row(`renew, queued last, queue of ${QUEUE}`, timed(CLAIM, renewAll(queuedWith(QUEUE), last, true)));
  // A claim of 256 of the endpoint onto its 63 queued, each pushed (nothing starts): its renews
  // interleaved with the pushes (before 25fb541f: each looks through those the batch pushed before
  // it), or all before them (now); the pushes' own cost in both.
  const batch = ofEp.slice(before, before + CLAIM);
  const claimOnto = (renewFirst: boolean) => () => {
    const queues = queuedWith(before);
    if (renewFirst) for (const c of batch) queues.renew(c);
    for (const c of batch) {
      if (!renewFirst) queues.renew(c);
      queues.push(c, target, now, null);
    }
  };
  const interleaved = timed(CLAIM, claimOnto(false));
  const first = timed(CLAIM, claimOnto(true));
  const pushesOnly = timed(CLAIM, () => {
    const queues = queuedWith(before);
    for (const c of batch) queues.push(c, target, now, null);
  });
  row(
    `claim of ${CLAIM} onto ${before} queued: renews between the pushes (before)`,
    interleaved - pushesOnly,
  );
  row(`claim of ${CLAIM} onto ${before} queued: renews before the pushes (now)`, first - pushesOnly);
  console.log(
    formatTable(
      `renew per claimed delivery against the claim's cost per delivery (${claims} claims of ${claimed.length} deliveries in ${claimMs.toFixed(0)} ms, ${claimUs.toFixed(1)} µs of CPU each)`,
      ['what', 'CPU µs per delivery', '% of the claim'],
      rows.map((r) => [r[0], Number((r[1] as number).toFixed(3)), Number((r[2] as number).toFixed(2))]),
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
