/** The dispatcher's cache of endpoint views (src/store/dispatch-cache.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, EndpointSecret } from '../../src/domain/types.ts';
import { DispatchCache } from '../../src/store/dispatch-cache.ts';

const view = (id: string, expiries: (number | null)[] = [null]) => ({
  endpoint: { id } as Endpoint,
  secrets: expiries.map(
    (expiresAt, i) => ({ id: `s${i}`, secret: `whsec_${i}`, expiresAt }) as EndpointSecret,
  ),
});

test('an entry is used only under the version it was read at, for its own project', () => {
  const cache = new DispatchCache();
  const v = view('ep_1');
  cache.set('prj_a', 'ep_1', 7, v);
  assert.equal(cache.get('prj_a', 'ep_1', 7, 0), v);
  assert.equal(cache.get('prj_b', 'ep_1', 7, 0), undefined, 'another project never sees it');
  assert.equal(cache.get('prj_a', 'ep_1', 8, 0), undefined, 'a newer version: read again');
  assert.equal(cache.get('prj_a', 'ep_1', 7, 0), undefined, 'and a stale entry is dropped');
});

test("an entry is not used once one of its secrets' grace has run out", () => {
  const cache = new DispatchCache();
  cache.set('prj_a', 'ep_1', 1, view('ep_1', [null, 5_000, 9_000]));
  assert.ok(cache.get('prj_a', 'ep_1', 1, 4_999));
  assert.equal(cache.get('prj_a', 'ep_1', 1, 5_000), undefined);
});

test('bounded: the least recently used endpoint goes first', () => {
  const cache = new DispatchCache({ limit: 2 });
  cache.set('p', 'a', 1, view('a'));
  cache.set('p', 'b', 1, view('b'));
  assert.ok(cache.get('p', 'a', 1, 0)); // a is now the most recent
  cache.set('p', 'c', 1, view('c'));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('p', 'b', 1, 0), undefined);
  assert.ok(cache.get('p', 'a', 1, 0));
  assert.ok(cache.get('p', 'c', 1, 0));
});

test("the sweep drops entries loaded the maximum age ago, whatever clock the claims' reads pass", () => {
  let mono = 0;
  const cache = new DispatchCache({ maxAgeMs: 1_000, sweepMs: 60_000, monotonic: () => mono });
  try {
    cache.set('p', 'a', 1, view('a', [null, 5_000])); // a rotated secret, its grace running
    mono = 500;
    cache.set('p', 'b', 1, view('b'));
    mono = 999;
    cache.sweep();
    assert.equal(cache.size, 2, 'younger than the maximum age: kept');
    mono = 1_000;
    cache.sweep();
    assert.equal(cache.size, 1, 'a, and the retired secret it held, are gone');
    assert.equal(cache.get('p', 'a', 1, 0), undefined);
    assert.ok(cache.get('p', 'b', 1, 0), 'a hit does not make an entry younger');
    mono = 1_500;
    cache.sweep();
    assert.equal(cache.size, 0);
  } finally {
    cache.clear();
  }
});

test("a delete through the cache's own store drops the endpoint's entry, or the project's, at once", () => {
  const cache = new DispatchCache();
  try {
    cache.set('p', 'a', 1, view('a'));
    cache.set('p', 'b', 1, view('b'));
    cache.set('q', 'c', 1, view('c'));
    cache.delete('q', 'a'); // another project's endpoint of that id: not this one
    assert.equal(cache.size, 3);
    cache.delete('p', 'a');
    assert.equal(cache.size, 2);
    cache.deleteProject('p');
    assert.equal(cache.size, 1);
    assert.ok(cache.get('q', 'c', 1, 0));
  } finally {
    cache.clear();
  }
});
