/** Which receivers HERALD_PROXY_BYPASS sends direct: names with their subdomains, networks for addresses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bypassItem, proxyBypass } from '../../src/domain/proxy-bypass.ts';

test('list items: names (a leading . or *. and a trailing dot dropped), networks, and neither', () => {
  assert.deepEqual(bypassItem('Hooks.Internal'), { name: 'hooks.internal' });
  assert.deepEqual(bypassItem('.internal'), { name: 'internal' });
  assert.deepEqual(bypassItem('*.corp.example.'), { name: 'corp.example' });
  assert.deepEqual(bypassItem('10.0.0.0/8'), { network: '10.0.0.0/8' });
  assert.deepEqual(bypassItem('10.1.2.3'), { network: '10.1.2.3/32' });
  assert.deepEqual(bypassItem('fd00::/8'), { network: 'fd00::/8' });
  assert.deepEqual(bypassItem('::1'), { network: '::1/128' });
  // In brackets, as NO_PROXY lists often have them.
  assert.deepEqual(bypassItem('[::1]'), { network: '::1/128' });
  assert.deepEqual(bypassItem('[fd00::]/8'), { network: 'fd00::/8' });
  // An IPv4-mapped address is one host, as is the IPv4 address it stands for.
  assert.deepEqual(bypassItem('::ffff:10.1.2.3'), { network: '::ffff:10.1.2.3/128' });
  const mapped = proxyBypass({ names: [], networks: ['::ffff:10.1.2.3/128'] });
  assert.equal(mapped('10.1.2.3'), true);
  assert.equal(mapped('10.1.2.4'), false);
  for (const bad of [
    '10.0.0.0/99',
    '300.1.2.3',
    'a..b',
    'under score.-x',
    'http://x',
    '',
    '[::1',
    '[hooks.internal]',
  ]) {
    assert.equal(bypassItem(bad), null, bad);
  }
});

test('a name matches itself and its subdomains, never a longer name that ends the same', () => {
  const direct = proxyBypass({ names: ['internal', 'hooks.example.com'], networks: [] });
  assert.equal(direct('internal'), true);
  assert.equal(direct('billing.internal'), true);
  assert.equal(direct('BILLING.Internal.'), true);
  assert.equal(direct('hooks.example.com'), true);
  assert.equal(direct('a.hooks.example.com'), true);
  assert.equal(direct('myinternal'), false);
  assert.equal(direct('example.com'), false);
  assert.equal(direct('hooks.example.com.evil.test'), false);
  assert.equal(direct('10.1.2.3'), false, 'an address is matched by networks only');
});

test('an address in the URL matches the networks, IPv6 in brackets too; names never match networks', () => {
  const direct = proxyBypass({ names: [], networks: ['10.0.0.0/8', '::1/128'] });
  assert.equal(direct('10.9.8.7'), true);
  assert.equal(direct('11.0.0.1'), false);
  assert.equal(direct('[::1]'), true);
  assert.equal(direct('[::2]'), false);
  assert.equal(direct('ten.internal'), false, 'a name is not resolved to decide');
});
