/**
 * herald_attempts_in_flight, herald_deliveries_queued, herald_deliveries_queued_bytes and
 * herald_attempts_unrecorded end to end: a real `herald serve` delivering to a loopback receiver
 * that holds its requests shows the attempts it has running and the deliveries it claimed beyond
 * the endpoint's slots, and all four come back to 0 once the receiver answers. Run with the
 * dispatcher on a thread of its own (SQLite's default: the gauges cross threads through shared
 * memory) and on the main thread (HERALD_DELIVERY_THREAD=false: read directly). Both serve
 * herald_dispatcher_held_seconds_total too.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-dispatcher-load-0123';
const EVENTS = 10;
const SLOTS = 3;

const held: ServerResponse[] = [];
let answered = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (holding) held.push(res);
    else {
      answered++;
      res.end('ok');
    }
  });
});
let holding = true;
const processes: HeraldProcess[] = [];

after(async () => {
  for (const h of processes) await h.dispose();
  server.closeAllConnections();
  server.close();
});

const GAUGES = [
  'herald_attempts_in_flight',
  'herald_attempts_unrecorded',
  'herald_deliveries_queued',
  'herald_deliveries_queued_bytes',
] as const;
type Gauges = Record<(typeof GAUGES)[number], number>;

async function gauges(h: HeraldProcess): Promise<Gauges> {
  const text = await fetch(`${h.url}/metrics`).then((r) => r.text());
  const out = {} as Gauges;
  for (const name of GAUGES) {
    const value = new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1];
    assert.ok(value !== undefined, `${name} is served`);
    out[name] = Number(value);
  }
  return out;
}

async function until(what: string, h: HeraldProcess, ok: (g: Gauges) => boolean): Promise<Gauges> {
  const end = Date.now() + 20_000;
  for (;;) {
    const g = await gauges(h);
    if (ok(g)) return g;
    assert.ok(Date.now() < end, `${what}: last read ${JSON.stringify(g)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const thread of [true, false]) {
  test(`the dispatcher's load gauges (${thread ? 'dispatcher thread' : 'main thread'})`, async () => {
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    for (const res of held.splice(0)) res.end('ok'); // left by a test that failed before
    holding = true;
    answered = 0;
    const port = (server.address() as AddressInfo).port;
    const h = await startHerald({
      env: {
        HERALD_ADMIN_TOKEN: TOKEN,
        HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
        HERALD_LOG_LEVEL: 'warn',
        HERALD_ENDPOINT_CONCURRENCY: String(SLOTS),
        HERALD_DELIVERY_THREAD: String(thread),
      },
    });
    processes.push(h);
    const idle = await gauges(h);
    assert.deepEqual(idle, {
      herald_attempts_in_flight: 0,
      herald_attempts_unrecorded: 0,
      herald_deliveries_queued: 0,
      herald_deliveries_queued_bytes: 0,
    });
    // The delivering thread's held time (dispatcher-held-metric.test.ts holds one) is served in
    // both modes: the thread's count through shared memory, else the main thread's sender's.
    const heldSeconds = /^herald_dispatcher_held_seconds_total ([0-9.e+-]+)$/m.exec(
      await fetch(`${h.url}/metrics`).then((r) => r.text()),
    )?.[1];
    assert.ok(
      heldSeconds !== undefined && Number.isFinite(Number(heldSeconds)) && Number(heldSeconds) >= 0,
      `held seconds: ${heldSeconds}`,
    );
    const p = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'load' });
    const e = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${port}/hook`,
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
    const payload = { note: 'y'.repeat(1_000) };
    const sent = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/events/batch`, {
      events: Array.from({ length: EVENTS }, (_, i) => ({ type: 'load.test', payload: { ...payload, i } })),
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));

    // The receiver holds every request: the endpoint's three slots are taken, and the deliveries
    // claimed beyond them wait in its queue (some may still be in the database, unclaimed).
    const busy = await until(
      'attempts in flight at the endpoint cap, deliveries queued',
      h,
      (g) => g.herald_attempts_in_flight === SLOTS && g.herald_deliveries_queued > 0,
    );
    assert.ok(busy.herald_deliveries_queued <= EVENTS - SLOTS, JSON.stringify(busy));
    // Each queued delivery is a distinct event of a little over 1,000 bytes.
    assert.ok(
      busy.herald_deliveries_queued_bytes >= busy.herald_deliveries_queued * 1_000 &&
        busy.herald_deliveries_queued_bytes <= busy.herald_deliveries_queued * 1_100,
      JSON.stringify(busy),
    );
    // In flight counts from the connect: the requests reach the receiver a moment after.
    const end = Date.now() + 10_000;
    while (held.length < SLOTS && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(held.length, SLOTS, 'the receiver holds what the gauge says is in flight');

    holding = false;
    for (const res of held.splice(0)) res.end('ok');
    await until(
      'everything delivered and recorded',
      h,
      (g) => Object.values(g).every((v) => v === 0) && held.length + answered >= EVENTS - SLOTS,
    );
  });
}
