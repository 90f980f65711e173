import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanOutCache, type FanOutEndpoint } from '../../src/store/fan-out-cache.ts';

const list = (n: number, tag = 'e'): FanOutEndpoint[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${tag}${i}`,
    url: `http://127.0.0.1:9/${tag}${i}`,
    status: 'active',
    dev: false,
    eventTypes: [],
  }));

test('a list is reused only under the version it was read under', () => {
  const cache = new FanOutCache();
  const endpoints = list(3);
  cache.set('p', 7, endpoints);
  assert.equal(cache.get('p', 7), endpoints);
  assert.equal(cache.get('p', 8), undefined, 'a newer version is a miss');
  assert.equal(cache.get('p', 7), undefined, 'and the stale list is gone');
  assert.equal(cache.size, 0);
  assert.equal(cache.get('other', 0), undefined);
});

test('setting a project again replaces its list', () => {
  const cache = new FanOutCache();
  cache.set('p', 1, list(5));
  const next = list(2, 'n');
  cache.set('p', 2, next);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('p', 2), next);
});

test('bounded by endpoints held: the least recently used projects go first', () => {
  const cache = new FanOutCache(10);
  cache.set('a', 1, list(4));
  cache.set('b', 1, list(4));
  assert.ok(cache.get('a', 1), 'a is now the most recently used');
  cache.set('c', 1, list(4)); // 12 > 10: b goes
  assert.equal(cache.get('b', 1), undefined);
  assert.ok(cache.get('a', 1));
  assert.ok(cache.get('c', 1));
  assert.equal(cache.size, 8);
  cache.set('huge', 1, list(11)); // larger than the bound: not kept, the others stay
  assert.equal(cache.get('huge', 1), undefined);
  assert.equal(cache.size, 8);
});

test('projects with no endpoints count against the bound too: churn through empty projects does not grow it without end', () => {
  const cache = new FanOutCache(100);
  // Events sent to projects that have no endpoint (not yet, or no longer), each then deleted.
  for (let p = 0; p < 10_000; p++) cache.set(`p${p}`, 1, []);
  assert.ok(cache.size <= 100);
  assert.equal(cache.get('p0', 1), undefined, 'the least recently used empty list is gone');
  assert.deepEqual(cache.get('p9999', 1), [], 'the latest is kept');
  let kept = 0;
  for (let p = 0; p < 10_000; p++) if (cache.get(`p${p}`, 1)) kept++;
  assert.ok(kept <= 100, `${kept} empty lists kept, bound 100`);
});
