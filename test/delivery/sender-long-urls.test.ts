/**
 * The sender keeps nothing of a long URL once its attempt is over. An hmac-sha1-url endpoint sent
 * to with GET carries its event in the query string: a 1 MiB event of non-ASCII text is a ~3 MiB
 * URL, different for every attempt (its timestamp and signature). The sender remembered every URL
 * it parsed (up to 10,000, for an endpoint's URL sent to over and over), each with its path, and a
 * dispatcher thread under a 160 MiB heap ran out of memory after a few dozen such attempts. And the
 * `host` of the request headers an attempt's record keeps was a slice of the parsed URL's text:
 * each record waiting to be written held its whole URL once more.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSender } from '../../src/delivery/sender.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

// Node's own limit on a request's head (16 KiB): such a URL is answered 431, as a receiver did.
const receiver = createServer((_req, res) => res.end('ok'));
const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
after(async () => {
  await sender.close();
  receiver.closeAllConnections();
  receiver.close();
});

test('30 GET attempts with distinct ~3 MiB URLs: each sent, and neither the sender nor their request headers keep them', async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const data = encodeURIComponent(JSON.stringify({ blob: 'é'.repeat(520_000) }));
  const before = heapMiB();
  // Kept as the attempts' records keep them until written: their `host` must not hold the URL.
  const sentHeaders: (Record<string, string> | undefined)[] = [];
  for (let i = 0; i < 30; i++) {
    const result = await sender.send({
      method: 'GET',
      url: `${base}?timestamp=${i}&data=${data}`,
      headers: {},
      body: null,
      timeoutMs: 10_000,
    });
    assert.equal(result.response?.status ?? result.error?.message, 431);
    sentHeaders.push(result.requestHeaders);
  }
  const grown = heapMiB() - before;
  assert.ok(grown < 20, `the heap grew by ${grown.toFixed(0)} MiB over 30 attempts of ~3 MiB URLs`);
  assert.equal(
    sentHeaders.filter((h) => h?.host === base.slice('http://'.length, -'/hook'.length)).length,
    30,
  );
});
