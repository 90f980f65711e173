/** Where the rate gate puts back deliveries that got no token (real SQLite store for the tokens). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createRateGate, TOKEN_WAIT_MAX_MS } from '../../src/delivery/rate-gate.ts';
import type { Endpoint } from '../../src/domain/types.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimedDelivery, DispatchEndpoint } from '../../src/store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-rate-gate-'));
const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = (id: string, perSecond: number) =>
  ({ id, projectId: 'p', status: 'active', rateLimit: { perSecond, burst: 1 } }) as unknown as Endpoint;
/** A claimed batch as prepare sees it (no endpoint views passed: it takes no tokens). */
const claimedOf = (endpointId: string, ids: string[]) =>
  ids.map((id) => ({ delivery: { id, endpointId } })) as unknown as ClaimedDelivery[];
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('rate gate: putting back', () => {
  test('the first of a batch comes back with the next token, the others one token apart after it', async () => {
    const gate = createRateGate(store);
    const ep = endpoint('e1', 10); // 100 ms a token
    await gate.prepare([], new Map(), 1_000);
    assert.deepEqual(
      ids('d', 4).map((id) => gate.putBackAt(ep, id, 1_000, 40)),
      [1_040, 1_140, 1_240, 1_340],
    );
  });

  test('a later batch goes after what earlier batches put back, not on top of it', async () => {
    const gate = createRateGate(store);
    const ep = endpoint('e1', 10);
    await gate.prepare([], new Map(), 1_000);
    for (const id of ids('a', 4)) gate.putBackAt(ep, id, 1_000, 40); // up to 1,340
    await gate.prepare(claimedOf('e1', ['b0', 'b1', 'b2']), new Map(), 1_010);
    // Its first keeps the next token (it may be one that came back a moment early); the rest queue
    // behind 1,340 instead of colliding with 1,140 and 1,240.
    assert.deepEqual(
      ids('b', 3).map((id) => gate.putBackAt(ep, id, 1_010, 30)),
      [1_040, 1_440, 1_540],
    );
  });

  test('deliveries claimed again before their time (an enable, a raised limit) give up their places', async () => {
    const gate = createRateGate(store);
    const slow = endpoint('e1', 1); // a token a second
    await gate.prepare([], new Map(), 0);
    const first = ids('d', 60).map((id) => gate.putBackAt(slow, id, 0, 1_000));
    assert.equal(first.at(-1), 60_000);
    // The limit is raised to 1,000/s and the store makes all 60 due at once: claimed again, the
    // ones without a token are spread by the new rate, not behind the old minute.
    const fast = endpoint('e1', 1_000);
    await gate.prepare(claimedOf('e1', ids('d', 60)), new Map(), 2_000);
    const again = ids('d', 40).map((id) => gate.putBackAt(fast, id, 2_000, 1));
    assert.equal(again[0], 2_001);
    assert.ok(again.at(-1)! <= 2_001 + 40, `the 40th put back at ${again.at(-1)}`);
  });

  test('an endpoint idle for long starts from the next token again', async () => {
    const gate = createRateGate(store);
    const ep = endpoint('e1', 10);
    await gate.prepare([], new Map(), 1_000);
    for (const id of ids('a', 3)) gate.putBackAt(ep, id, 1_000, 40);
    await gate.prepare(claimedOf('e1', ids('a', 3)), new Map(), 60_000);
    assert.deepEqual(
      ids('b', 2).map((id) => gate.putBackAt(ep, id, 60_000, 50)),
      [60_050, 60_150],
    );
  });

  test('endpoints are spaced each by their own rate', async () => {
    const gate = createRateGate(store);
    const slow = endpoint('slow', 1);
    const fast = endpoint('fast', 100);
    await gate.prepare([], new Map(), 0);
    const got = [
      gate.putBackAt(slow, 's0', 0, 5),
      gate.putBackAt(fast, 'f0', 0, 5),
      gate.putBackAt(slow, 's1', 0, 5),
      gate.putBackAt(fast, 'f1', 0, 5),
    ];
    assert.deepEqual(got, [5, 5, 1_005, 15]);
  });
});

describe('rate gate: what the next claim takes first', () => {
  const limited = (id: string, perSecond: number, burst: number) =>
    ({ id, projectId: 'p', status: 'active', rateLimit: { perSecond, burst } }) as unknown as Endpoint;
  const never = () => false;

  test('an endpoint whose put-backs are due, with the tokens it can have by now (up to its burst)', async () => {
    const gate = createRateGate(store);
    const ep = limited('e1', 10, 3); // 100 ms a token
    await gate.prepare([], new Map(), 1_000);
    for (const id of ids('d', 5)) gate.putBackAt(ep, id, 1_000, 40); // due 1,040, 1,140, …
    assert.deepEqual(gate.claimFirst(1_039, never), [], 'nothing due yet');
    assert.deepEqual(gate.claimFirst(1_040, never), [{ projectId: 'p', endpointId: 'e1', limit: 1 }]);
    assert.deepEqual(gate.claimFirst(1_150, never), [{ projectId: 'p', endpointId: 'e1', limit: 2 }]);
    // Counted from the last claim that took it first, not again from the first put-back.
    assert.deepEqual(gate.claimFirst(1_250, never), [{ projectId: 'p', endpointId: 'e1', limit: 2 }]);
    assert.deepEqual(
      gate.claimFirst(9_000, never),
      [{ projectId: 'p', endpointId: 'e1', limit: 3 }],
      'burst',
    );
    assert.deepEqual(
      gate.claimFirst(1_040, (id) => id === 'e1'),
      [],
      'saturated: left to later',
    );
  });

  test('claimed, the next put-back sets when it is due again', async () => {
    const gate = createRateGate(store);
    const ep = limited('e1', 10, 1);
    await gate.prepare([], new Map(), 1_000);
    for (const id of ids('d', 3)) gate.putBackAt(ep, id, 1_000, 40); // due 1,040, 1,140, 1,240
    const first = gate.claimFirst(1_050, never);
    await gate.prepare(claimedOf('e1', ['d0']), new Map(), 1_050);
    gate.claimedFirst(first, claimedOf('e1', ['d0']), 1_050, false);
    assert.deepEqual(gate.claimFirst(1_100, never), [], 'd1 is due at 1,140');
    assert.equal(gate.claimFirst(1_140, never).length, 1);
  });

  test('an endpoint asked for first that gets nothing is not asked for again until new put-backs', async () => {
    // Another process claimed what this one put back (or it was parked or deleted).
    const gate = createRateGate(store);
    const ep = limited('e1', 10, 1);
    await gate.prepare([], new Map(), 1_000);
    for (const id of ids('d', 3)) gate.putBackAt(ep, id, 1_000, 40); // due 1,040, 1,140, 1,240
    const first = gate.claimFirst(1_150, never);
    assert.equal(first.length, 1);
    gate.claimedFirst(first, claimedOf('other', ['x']), 1_150, false);
    assert.deepEqual(gate.claimFirst(1_200, never), [], 'd0 and d1 forgotten');
    assert.equal(gate.claimFirst(1_240, never).length, 1, 'd2 was not due yet: still asked for');
  });
});

describe('rate gate: fractional limits and full claims', () => {
  const never = () => false;

  test('a fractional perSecond (burst defaulting to it) asks for a whole number of deliveries', async () => {
    const gate = createRateGate(store);
    const ep = {
      id: 'e1',
      projectId: 'p',
      status: 'active',
      rateLimit: { perSecond: 1.5 },
    } as unknown as Endpoint;
    await gate.prepare([], new Map(), 0);
    for (const id of ids('d', 4)) gate.putBackAt(ep, id, 0, 100);
    for (const now of [100, 700, 1_500, 60_000]) {
      for (const { limit } of gate.claimFirst(now, never))
        assert.ok(Number.isInteger(limit) && limit >= 1, `${limit}`);
    }
  });

  test('an endpoint asked for first is not forgotten when the claim came back full', async () => {
    const gate = createRateGate(store);
    const e1 = {
      id: 'e1',
      projectId: 'p',
      status: 'active',
      rateLimit: { perSecond: 10, burst: 5 },
    } as unknown as Endpoint;
    const e2 = { ...e1, id: 'e2' } as Endpoint;
    await gate.prepare([], new Map(), 0);
    gate.putBackAt(e1, 'a', 0, 10);
    gate.putBackAt(e2, 'b', 0, 10);
    const first = gate.claimFirst(100, never);
    assert.equal(first.length, 2);
    gate.claimedFirst(first, claimedOf('e1', ['a', 'x', 'y', 'z', 'w']), 100, true); // full: e2 never looked at
    assert.ok(gate.claimFirst(100, never).some((f) => f.endpointId === 'e2'));
  });
});

test('rate gate: with more endpoints due than one claim takes first, each gets its turn', async () => {
  const gate = createRateGate(store);
  await gate.prepare([], new Map(), 0);
  const names = Array.from({ length: 40 }, (_, i) => `e${i}`);
  for (const id of names) {
    const ep = {
      id,
      projectId: 'p',
      status: 'active',
      rateLimit: { perSecond: 10, burst: 1 },
    } as unknown as Endpoint;
    gate.putBackAt(ep, `${id}-d`, 0, 10);
  }
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const first = gate.claimFirst(100, () => false);
    assert.ok(first.length <= 32);
    for (const f of first) seen.add(f.endpointId);
  }
  assert.equal(seen.size, 40, 'every endpoint was asked for first at some claim');
});

describe('rate gate: batches prepared at the same time', () => {
  // The claim loop and the hand-off of newly accepted deliveries each prepare a batch; both can be
  // between prepare and their launch pass at once. Each delivery must get the token its batch took
  // from the store: none lost to the other batch, none used twice.
  const limited = (id: string, perSecond: number, burst: number) =>
    ({ id, projectId: 'p', status: 'active', rateLimit: { perSecond, burst } }) as unknown as Endpoint;
  const viewsOf = (...eps: Endpoint[]) =>
    new Map<string, DispatchEndpoint>(eps.map((endpoint) => [endpoint.id, { endpoint, secrets: [] }]));
  const claimedTo = (pairs: [string, string][]) =>
    pairs.map(([id, endpointId]) => ({
      delivery: { id, endpointId, projectId: 'p' },
    })) as unknown as ClaimedDelivery[];
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  test('two batches prepared before either takes: every delivery gets its token, none twice', async () => {
    const gate = createRateGate(store);
    const now = 5_000_000;
    const onlyA = limited('conc-a', 2, 2); // 2/s, burst 2: far under the limit
    const onlyB = limited('conc-b', 2, 2);
    const shared = limited('conc-s', 2, 2);
    const a = gate.prepare(
      claimedTo([
        ['a0', 'conc-a'],
        ['a1', 'conc-s'],
      ]),
      viewsOf(onlyA, shared),
      now,
    );
    const b = gate.prepare(
      claimedTo([
        ['b0', 'conc-b'],
        ['b1', 'conc-s'],
      ]),
      viewsOf(onlyB, shared),
      now,
    );
    await Promise.all([a, b]);
    // Batch A's pass, then batch B's (both after both prepares).
    assert.deepEqual([gate.take(onlyA, now), gate.take(shared, now)], [0, 0], 'batch A');
    assert.deepEqual([gate.take(onlyB, now), gate.take(shared, now)], [0, 0], 'batch B');
    // The shared endpoint's two tokens were both taken in the store and both used, once each.
    assert.equal(gate.take(shared, now), 500, 'no third token: the next one in an interval');
    const store2 = await store.takeRateTokens(
      [{ projectId: 'p', endpointId: 'conc-s', perSecond: 2, burst: 2, want: 1 }],
      now,
    );
    assert.equal(store2.get('conc-s')?.granted, 0, 'the store has none left either');
  });

  test('prepare and take interleaved: a batch prepared while another waits for its tokens', async () => {
    const gate = createRateGate(store);
    const now = 6_000_000;
    const ep = limited('conc-i', 10, 3);
    const a = gate.prepare(claimedTo([['a0', 'conc-i']]), viewsOf(ep), now);
    const b = gate.prepare(
      claimedTo([
        ['b0', 'conc-i'],
        ['b1', 'conc-i'],
      ]),
      viewsOf(ep),
      now,
    );
    await a;
    assert.equal(gate.take(ep, now), 0, 'batch A');
    await b;
    assert.deepEqual([gate.take(ep, now), gate.take(ep, now)], [0, 0], 'batch B');
    assert.ok(gate.take(ep, now) > 0, 'three tokens, three deliveries');
  });

  test('tokens left at the end of the turn are not spent later, on top of newer ones', async () => {
    const gate = createRateGate(store);
    const now = 7_000_000;
    const ep = limited('conc-l', 10, 2);
    await gate.prepare(
      claimedTo([
        ['a0', 'conc-l'],
        ['a1', 'conc-l'],
      ]),
      viewsOf(ep),
      now,
    );
    assert.equal(gate.take(ep, now), 0); // a1 never asks (put back for a full queue)
    await nextTurn();
    assert.ok(gate.take(ep, now + 1_000) > 0, 'the left token was dropped');
  });

  test('an endpoint whose secrets did not open takes no tokens (its deliveries go back without one)', async () => {
    const gate = createRateGate(store);
    const now = 8_000_000;
    const ep = limited('conc-u', 2, 2);
    const views = new Map<string, DispatchEndpoint>([
      [ep.id, { endpoint: ep, secrets: [], unopened: new Error('sealed with another key') }],
    ]);
    await gate.prepare(
      claimedTo([
        ['u0', 'conc-u'],
        ['u1', 'conc-u'],
      ]),
      views,
      now,
    );
    const left = await store.takeRateTokens(
      [{ projectId: 'p', endpointId: 'conc-u', perSecond: 2, burst: 2, want: 2 }],
      now,
    );
    assert.equal(left.get('conc-u')?.granted, 2);
  });
});

describe('rate gate: no claim before the next token', () => {
  const never = () => false;
  const limited = (id: string, perSecond: number) =>
    ({ id, projectId: 'p', status: 'active', rateLimit: { perSecond, burst: 1 } }) as unknown as Endpoint;
  const batch = (endpoint: Endpoint, deliveryIds: string[]) => ({
    claimed: deliveryIds.map((id) => ({
      delivery: { id, endpointId: endpoint.id, projectId: 'p' },
    })) as unknown as ClaimedDelivery[],
    views: new Map<string, DispatchEndpoint>([[endpoint.id, { endpoint, secrets: [] }]]),
  });

  test('an endpoint with put-backs is left out of claims until its next token, then asked for first', async () => {
    const gate = createRateGate(store);
    const ep = limited('wait-1', 10); // a token every 100 ms
    const now = 7_000_000;
    const b = batch(ep, ['d0', 'd1', 'd2']);
    await gate.prepare(b.claimed, b.views, now);
    assert.equal(gate.take(ep, now), 0);
    for (const id of ['d1', 'd2']) gate.putBackAt(ep, id, now, gate.take(ep, now)); // due +100, +200
    assert.deepEqual(gate.noTokenYet(now + 50), { endpointIds: ['wait-1'], until: now + 100 });
    // A claim at +100 takes d1 first (its token): the store's next token is at +200.
    assert.deepEqual(gate.claimFirst(now + 100, never), [{ projectId: 'p', endpointId: 'wait-1', limit: 1 }]);
    assert.deepEqual(gate.noTokenYet(now + 100), { endpointIds: [], until: null });
    const d1 = batch(ep, ['d1']);
    gate.claimedFirst([{ projectId: 'p', endpointId: 'wait-1', limit: 1 }], d1.claimed, now + 100, false);
    await gate.prepare(d1.claimed, d1.views, now + 100);
    assert.equal(gate.take(ep, now + 100), 0);
    assert.equal(gate.nextClaimAt(), now + 200, 'it got all it asked for: claimed again at its next token');
    assert.equal(gate.nextClaimAt(), null, 'once');
    // d2 came due at +200 by its put-back; a claim a moment before the token leaves it out.
    assert.deepEqual(gate.claimFirst(now + 199, never), []);
    assert.deepEqual(gate.noTokenYet(now + 199), { endpointIds: ['wait-1'], until: now + 200 });
    assert.equal(gate.claimFirst(now + 200, never).length, 1);
  });

  test('a token further away than TOKEN_WAIT_MAX_MS does not leave its endpoint out', async () => {
    const gate = createRateGate(store);
    const ep = limited('wait-2', 1); // a token a second
    const now = 8_000_000;
    const b = batch(ep, ['d0', 'd1']);
    await gate.prepare(b.claimed, b.views, now);
    assert.equal(gate.take(ep, now), 0);
    gate.putBackAt(ep, 'd1', now, gate.take(ep, now)); // due +1,000
    assert.deepEqual(gate.noTokenYet(now + 1_000 - TOKEN_WAIT_MAX_MS - 1).endpointIds, []);
    assert.deepEqual(gate.noTokenYet(now + 1_000 - TOKEN_WAIT_MAX_MS).endpointIds, ['wait-2']);
  });
});
