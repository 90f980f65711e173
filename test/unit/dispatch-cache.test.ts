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
  const cache = new DispatchCache(2);
  cache.set('p', 'a', 1, view('a'));
  cache.set('p', 'b', 1, view('b'));
  assert.ok(cache.get('p', 'a', 1, 0)); // a is now the most recent
  cache.set('p', 'c', 1, view('c'));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('p', 'b', 1, 0), undefined);
  assert.ok(cache.get('p', 'a', 1, 0));
  assert.ok(cache.get('p', 'c', 1, 0));
});
