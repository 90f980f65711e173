/**
 * Claimed deliveries waiting in the dispatcher's endpoint queues are bounded by their payloads'
 * bytes, per project: a real `herald serve` under `--max-old-space-size=64` (HEAP_MIB) takes 60
 * distinct 1 MiB events of one project to 20 receivers that hold every request, and stays up;
 * another project's small event meanwhile goes out at once; and once the receivers answer, every
 * one of the 60 is delivered (those handed back for lack of room were claimed again). Unbounded,
 * the attempts in flight held their share of HERALD_DELIVERY_BYTES_IN_FLIGHT (an eighth of the
 * heap) and the rest waited in the queues, each event its own copy, counted by nothing: the
 * dispatcher thread ran out of heap (ERR_WORKER_OUT_OF_MEMORY) and the process stopped (under a
 * 160 MiB heap after ~116 events; under 64 MiB before the 60 were accepted).
 *
 * And a process started on a backlog of such events (accepted by an `api` process) claims them a
 * few at a time until it knows what they weigh, and a claim stops reading payloads at
 * HERALD_DELIVERY_BYTES_IN_FLIGHT (ClaimOptions.maxBytes): claiming 256 at once, it ran its
 * dispatcher thread out of heap before the process was ready (80 events under 64 MiB: "herald
 * exited before it was ready"; either bound alone keeps it up). Nor does it take them 256 at once
 * after claims of small events taught it payloads are light: sized by the payloads of recent
 * claims alone, a backlog of 1,000 small events followed by 80 distinct 1 MiB events ran the
 * dispatcher thread out of heap (200 under 160 MiB: within 5 s of the start, peak 274 MiB resident).
 *
 * The heap is small so that few events show each bound: under 160 MiB the file sent 550 MiB of
 * events through the API, the store, the claims and the receivers (~100 s of CPU), the same
 * behaviour as 220 MiB does under 64.
 *
 * How long the deliveries take is not what these tests measure, and it grows with the machine's
 * load: each claim reads up to an eighth of the heap in payloads, and the 1,000 small events
 * share the claims' endpoint turns with the 20 large endpoints until those are left out of claims.
 * On a loaded machine 440 of the 1,000 had arrived when a fixed 13 s ran out. So the waits fail
 * only when nothing more arrives for STALL_MS (a delivery lost never arrives), and the large
 * endpoints' attempts time out after 30 s, not 5 s: held longer than two 5 s timeouts, a delivery
 * was retried only 5 minutes later (the retry schedule's second step), and all of them delivered
 * could not be waited for.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-queued-bytes-0123456789';
const ENDPOINTS = 20;
/** The V8 heap's limit of the processes (and of their dispatcher threads), in MiB. */
const HEAP_MIB = 64;
const EVENTS = 60;
const heralds: HeraldProcess[] = [];
/** Held requests' responses while `holding`; answered at once after. */
let holding = true;
const held: ServerResponse[] = [];
const ENV = {
  HERALD_ADMIN_TOKEN: TOKEN,
  HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
  HERALD_LOG_LEVEL: 'warn',
  NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}`,
};
const blob = 'x'.repeat(1_040_000);
/** How long a wait goes on with nothing more arriving before it fails. */
const STALL_MS = 20_000;
/**
 * Waits until `count()` reaches `target`, the process alive throughout; fails when it stops
 * growing for STALL_MS.
 */
async function arrived(alive: () => void, count: () => number, target: number, what: string) {
  let last = count();
  let lastAt = Date.now();
  while (count() < target && Date.now() - lastAt < STALL_MS) {
    alive();
    await new Promise((r) => setTimeout(r, 100));
    if (count() > last) {
      last = count();
      lastAt = Date.now();
    }
  }
  alive();
  assert.equal(count(), target, `${count()} of ${target} ${what}, none more in ${STALL_MS / 1000} s`);
}
/** A project whose 20 endpoints each take one type: every event a distinct payload for one endpoint. */
async function largeEventsProject(url: string, port: number): Promise<string> {
  const p = await api<{ id: string }>(url, TOKEN, 'POST', '/api/v1/projects', { name: 'large-events' });
  for (let i = 0; i < ENDPOINTS; i++) {
    const e = await api(url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${port}/e/${i}`,
      eventTypes: [`t${i}`],
      // Held until the receivers answer, however long the machine's load makes that (see above).
      timeoutMs: 30_000,
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
  }
  return p.body.id;
}
const sendLarge = (url: string, projectId: string, n: number) =>
  api(url, TOKEN, 'POST', `/api/v1/projects/${projectId}/events`, {
    type: `t${n % ENDPOINTS}`,
    payload: { n, blob },
  });
/** The receivers answer what they hold and all that comes: waits until every event arrived. */
async function answerAll(alive: () => void, count: number) {
  holding = false;
  for (const res of held.splice(0)) res.end('ok');
  await arrived(alive, () => seen.size, count, 'events delivered');
}
const seen = new Set<number>();
let otherAt = 0;
let otherSeen = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/other') {
      otherAt = Date.now();
      otherSeen++;
      res.end('ok');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { n: number } };
    seen.add(body.data.n);
    if (holding) held.push(res);
    else res.end('ok');
  });
});

const listening = new Promise<number>((resolve) =>
  server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
);

after(async () => {
  for (const h of heralds) await h.dispose();
  for (const res of held) res.destroy();
  server.closeAllConnections();
  server.close();
});

test(`${EVENTS} distinct 1 MiB events to 20 holding receivers under a ${HEAP_MIB} MiB heap: the process lives, another project is served, all are delivered`, async () => {
  const port = await listening;
  const h = await startHerald({ env: ENV });
  heralds.push(h);
  let exited = false;
  void h.exited.then(() => (exited = true));
  const alive = () => assert.equal(exited, false, `the process stopped:\n${h.output().slice(-2_000)}`);
  const big = await largeEventsProject(h.url, port);
  const other = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'small-events' });
  const ep = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${other.body.id}/endpoints`, {
    url: `http://127.0.0.1:${port}/other`,
  });
  assert.equal(ep.status, 201, JSON.stringify(ep.body));

  for (let n = 0; n < EVENTS && !exited; n++) {
    const sent = await sendLarge(h.url, big, n);
    assert.equal(sent.status, 202, `${JSON.stringify(sent.body)}\n${h.output().slice(-6_000)}`);
  }
  // The queues fill as the claims and hand-offs go on.
  await new Promise((r) => setTimeout(r, 3_000));
  alive();

  // Another tenant's event is not held back by the first tenant's queued bytes.
  const otherSent = Date.now();
  const sent = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${other.body.id}/events`, {
    type: 'small',
    payload: { n: -1 },
  });
  assert.equal(sent.status, 202);
  const otherEnd = Date.now() + 5_000;
  while (otherAt === 0 && !exited && Date.now() < otherEnd) await new Promise((r) => setTimeout(r, 50));
  alive();
  assert.ok(otherAt > 0, 'the other project’s event was not delivered within 5 s');
  assert.ok(otherAt - otherSent < 3_000, `the other project’s event took ${otherAt - otherSent} ms`);

  // The receivers answer: every accepted event is delivered, none lost.
  await answerAll(alive, EVENTS);
});

const BACKLOG = 80;
test(`a process started on a backlog of ${BACKLOG} distinct 1 MiB events under a ${HEAP_MIB} MiB heap: ready, alive, all delivered`, async () => {
  const port = await listening;
  holding = true;
  seen.clear();
  const accepting = await startHerald({ env: ENV, args: ['--role', 'api'] });
  heralds.push(accepting);
  const project = await largeEventsProject(accepting.url, port);
  for (let n = 0; n < BACKLOG; n++) assert.equal((await sendLarge(accepting.url, project, n)).status, 202);
  await accepting.kill('SIGTERM');
  const h = await startHerald({ env: ENV, dataDir: accepting.dataDir });
  heralds.push(h);
  let exited = false;
  void h.exited.then(() => (exited = true));
  const alive = () => assert.equal(exited, false, `the process stopped:\n${h.output().slice(-2_000)}`);
  await new Promise((r) => setTimeout(r, 5_000));
  await arrived(alive, () => Math.min(seen.size, 1), 1, 'large events sent');
  await answerAll(alive, BACKLOG);
});

/** Peak resident memory of a process (Linux), in MiB. */
function peakResidentMiB(pid: number): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Math.round(Number(line[1]) / 1024) : Number.NaN;
}

const LARGE = 80;
test(`a backlog of 1,000 small events, then ${LARGE} distinct 1 MiB events, under a ${HEAP_MIB} MiB heap: claims stop at the bytes, all delivered`, async (t) => {
  const port = await listening;
  holding = true;
  seen.clear();
  const SMALL = 1_000;
  const accepting = await startHerald({ env: ENV, args: ['--role', 'api'] });
  heralds.push(accepting);
  const project = await largeEventsProject(accepting.url, port);
  const ep = await api(accepting.url, TOKEN, 'POST', `/api/v1/projects/${project}/endpoints`, {
    url: `http://127.0.0.1:${port}/other`,
    eventTypes: ['small'],
  });
  assert.equal(ep.status, 201, JSON.stringify(ep.body));
  // The small ones are the oldest due: the claims that take them learn that payloads are light.
  const events = Array.from({ length: SMALL }, (_, n) => ({ type: 'small', payload: { n } }));
  const batch = await api(accepting.url, TOKEN, 'POST', `/api/v1/projects/${project}/events/batch`, {
    events,
  });
  assert.equal(batch.status, 202);
  for (let n = 0; n < LARGE; n++) assert.equal((await sendLarge(accepting.url, project, n)).status, 202);
  await accepting.kill('SIGTERM');
  otherSeen = 0;
  const h = await startHerald({ env: ENV, dataDir: accepting.dataDir });
  heralds.push(h);
  let exited = false;
  void h.exited.then(() => (exited = true));
  const alive = () => assert.equal(exited, false, `the process stopped:\n${h.output().slice(-2_000)}`);
  await arrived(alive, () => otherSeen, SMALL, 'small events delivered');
  await new Promise((r) => setTimeout(r, 3_000));
  alive();
  assert.equal(otherSeen, SMALL);
  await arrived(alive, () => Math.min(seen.size, 1), 1, 'large events sent');
  await answerAll(alive, LARGE);
  t.diagnostic(`peak resident ${peakResidentMiB(h.pid)} MiB`);
});
