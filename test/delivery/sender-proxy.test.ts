/**
 * The sender through an HTTP forward proxy (HERALD_PROXY_URL), against a real CONNECT proxy and
 * real receivers on loopback: tunnels to the address Herald resolved and judged, kept alive, TLS
 * end to end, credentials, and whose failure each answer of the proxy is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeliveryProxy } from '../../src/config/config-types.ts';
import { parseProxyUrl } from '../../src/config/parse-proxy-url.ts';
import { createSender, type SenderOptions } from '../../src/delivery/sender.ts';
import { type ConnectProxy, type ProxyAnswer, startConnectProxy } from '../support/connect-proxy.ts';
import { refusedPort } from '../support/refused-port.ts';
import { makeTestCerts, startHttpsReceiver, type TestCerts } from '../support/test-certs.ts';
import { unacceptedPort } from '../support/unaccepted-port.ts';
import { post } from './post-request.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const LOOPBACK = ['127.0.0.0/8'];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

const viaProxy = (url: string): DeliveryProxy => parseProxyUrl({ value: url, source: 'HERALD_PROXY_URL' });

function sender(proxy: DeliveryProxy, over: Partial<SenderOptions> = {}) {
  const s = createSender({
    allowNetworks: LOOPBACK,
    maxResponseBytes: 65536,
    userAgent: 'test',
    proxy,
    ...over,
  });
  closers.push(() => s.close());
  return s;
}

async function proxyServer(answer?: ProxyAnswer, established?: string): Promise<ConnectProxy> {
  const p = await startConnectProxy(answer, established);
  closers.push(() => p.close());
  return p;
}

let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
  closers.push(() => receiver.close());
});

describe('through a proxy', () => {
  test('the request goes through a CONNECT tunnel to the address Herald resolved, the Host header unchanged', async () => {
    const proxy = await proxyServer();
    const s = sender(viaProxy(proxy.url));
    const before = receiver.requests.length;
    const url = `http://localhost:${receiver.port}/hook`;
    const result = await s.send(post(url));
    assert.equal(result.error, null, result.error?.message);
    assert.equal(result.response?.status, 200);
    // The name was resolved and judged by Herald: the proxy is asked for the address, not the name.
    assert.deepEqual(
      proxy.connects.map((c) => c.authority),
      [`127.0.0.1:${receiver.port}`],
    );
    const got = receiver.requests[before]!;
    assert.equal(got.headers.host, `localhost:${receiver.port}`);
    assert.equal(got.body, '{"a":1}');
    assert.equal(result.requestHeaders?.host, `localhost:${receiver.port}`);
  });

  test('any 2xx to the CONNECT opens the tunnel, whatever its reason phrase (RFC 9110), HTTP/1.0 too', async () => {
    for (const line of [
      'HTTP/1.0 200 OK',
      'HTTP/1.1 200',
      'HTTP/1.1 201 Tunnel Open',
      'HTTP/1.1 204 No Content',
    ]) {
      const proxy = await proxyServer(undefined, line);
      const result = await sender(viaProxy(proxy.url)).send(post(`http://127.0.0.1:${receiver.port}/hook`));
      assert.equal(result.response?.status, 200, `${line}: ${result.error?.message}`);
      assert.equal(proxy.connects.length, 1, line);
    }
  });

  test('tunnels are kept alive: ten sends in a row take at most two CONNECTs', async () => {
    // As without a proxy, undici's pool may open a second connection when the next request comes
    // before the first connection is free again; after that both are reused.
    const proxy = await proxyServer();
    const s = sender(viaProxy(proxy.url));
    for (let i = 0; i < 10; i++) {
      const result = await s.send(post(`http://127.0.0.1:${receiver.port}/hook`));
      assert.equal(result.response?.status, 200, result.error?.message);
    }
    assert.ok(proxy.connects.length <= 2, `${proxy.connects.length} CONNECTs`);
  });

  test('https receivers get TLS inside the tunnel, checked against the CA as without a proxy', async () => {
    const certs: TestCerts = makeTestCerts();
    closers.push(async () => certs.remove());
    const https = await startHttpsReceiver(certs.loopback);
    closers.push(() => https.close());
    const proxy = await proxyServer();
    const trusted = await sender(viaProxy(proxy.url), { ca: certs.ca.cert }).send(post(https.url));
    assert.equal(trusted.error, null, trusted.error?.message);
    assert.equal(trusted.response?.body, 'secure');
    const untrusted = await sender(viaProxy(proxy.url)).send(post(https.url));
    assert.equal(untrusted.error?.kind, 'tls', untrusted.error?.message);
    assert.equal(untrusted.local, undefined, "a receiver's certificate is the receiver's failure");
    assert.equal(https.requests, 1);
    assert.deepEqual(
      proxy.connects.map((c) => c.authority),
      [`127.0.0.1:${https.port}`, `127.0.0.1:${https.port}`],
    );
  });

  test("the URL's credentials go as Proxy-Authorization; a 407 is this installation's failure, not the receiver's", async () => {
    const expected = `Basic ${Buffer.from('herald:s3cr3t/pw').toString('base64')}`;
    const proxy = await proxyServer((req) => (req.headers['proxy-authorization'] === expected ? null : 407));
    const ok = await sender(viaProxy(`http://herald:s3cr3t%2Fpw@127.0.0.1:${proxy.port}`)).send(
      post(`http://127.0.0.1:${receiver.port}/hook`),
    );
    assert.equal(ok.response?.status, 200, ok.error?.message);
    const refused = await sender(viaProxy(proxy.url)).send(post(`http://127.0.0.1:${receiver.port}/hook`));
    assert.equal(refused.response, null);
    assert.equal(refused.local, 'HERALD_ERR_PROXY');
    assert.equal(refused.error?.kind, 'internal');
    assert.match(refused.error?.message ?? '', /answered 407 .* not the receiver's failure/);
    assert.deepEqual(
      proxy.connects.map((c) => c.authorization),
      [expected, undefined],
    );
  });

  test('a proxy that cannot be reached is a local failure', async () => {
    const port = await refusedPort();
    const result = await sender(viaProxy(`http://127.0.0.1:${port}`)).send(
      post(`http://127.0.0.1:${receiver.port}/hook`),
    );
    assert.equal(result.local, 'HERALD_ERR_PROXY');
    assert.match(
      result.error?.message ?? '',
      /^cannot reach the proxy http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED 127\.0\.0\.1:\d+; not the receiver's failure$/,
      'the cause said once',
    );
  });

  test('a proxy that does not take the connection (down, or a firewall that drops) is a local failure too, not a timeout of the receiver', async () => {
    const silent = await unacceptedPort();
    closers.push(() => silent.close());
    const started = Date.now();
    const result = await sender(viaProxy(`http://127.0.0.1:${silent.port}`)).send(
      post(`http://127.0.0.1:${receiver.port}/hook`, 300),
    );
    assert.equal(result.local, 'HERALD_ERR_PROXY', result.error?.message);
    assert.equal(result.error?.kind, 'internal');
    assert.match(
      result.error?.message ?? '',
      /the proxy http:\/\/127\.0\.0\.1:\d+ did not take the connection within 300 ms; not the receiver's failure/,
    );
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms: on the attempt's deadline`);
  });

  test("the proxy's refusals of the destination are the endpoint's: 403 blocked, 502 connect, 504 timeout", async () => {
    const statuses = [403, 502, 504];
    const proxy = await proxyServer(() => statuses[proxy.connects.length - 1] ?? 500);
    const s = sender(viaProxy(proxy.url));
    const kinds: (string | undefined)[] = [];
    for (const _ of statuses) {
      const result = await s.send(post(`http://127.0.0.1:${receiver.port}/hook`));
      assert.equal(result.local, undefined);
      kinds.push(result.error?.kind);
    }
    assert.deepEqual(kinds, ['blocked', 'connect', 'timeout']);
  });

  test('a proxy that never answers the CONNECT: the attempt times out on its deadline', async () => {
    const proxy = await proxyServer(() => 'hang');
    const started = Date.now();
    const result = await sender(viaProxy(proxy.url)).send(
      post(`http://127.0.0.1:${receiver.port}/hook`, 300),
    );
    assert.equal(result.error?.kind, 'timeout', result.error?.message);
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  });

  test('a name with several addresses: when the proxy cannot reach one, it is asked for the next, as a direct connection tries each', async () => {
    // ::1 first (a dual-stack resolver's order), the receiver listening on 127.0.0.1 only: the
    // proxy answers 502 for [::1] (nothing listens there), as a proxy without IPv6 egress would.
    const lookup = async () => [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ];
    const url = `http://receiver.test:${receiver.port}/hook`;
    const allowNetworks = ['127.0.0.0/8', '::1/128'];
    const direct = await createSender({ allowNetworks, maxResponseBytes: 65536, userAgent: 'test', lookup });
    closers.push(() => direct.close());
    const directly = await direct.send(post(url));
    assert.equal(directly.response?.status, 200, `direct: ${directly.error?.message}`);

    const proxy = await proxyServer();
    const result = await sender(viaProxy(proxy.url), { allowNetworks, lookup }).send(post(url));
    assert.equal(result.error, null, result.error?.message);
    assert.equal(result.response?.status, 200);
    assert.deepEqual(
      proxy.connects.map((c) => c.authority),
      [`[::1]:${receiver.port}`, `127.0.0.1:${receiver.port}`],
    );
  });

  test('a name none of whose addresses the proxy can reach: connect, naming every address asked for', async () => {
    const port = await refusedPort();
    const lookup = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
    const proxy = await proxyServer();
    const result = await sender(viaProxy(proxy.url), {
      allowNetworks: ['127.0.0.0/8', '::1/128'],
      lookup,
    }).send(post(`http://receiver.test:${port}/hook`));
    assert.equal(result.error?.kind, 'connect', result.error?.message);
    assert.equal(result.local, undefined, "the receiver's failure");
    assert.equal(proxy.connects.length, 2);
    assert.match(result.error?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${port}.*\\[::1\\]:${port}`));
  });

  test("a tunnel the proxy drops once the request went (a proxy restarting) is the endpoint's `reset`, as a receiver closing: it may have got the request", async () => {
    const slow = await startReceiver(() => ({ delayMs: 1_000 }));
    closers.push(() => slow.close());
    const proxy = await proxyServer();
    const sending = sender(viaProxy(proxy.url)).send(post(`http://127.0.0.1:${slow.port}/hook`, 3_000));
    await slow.waitFor(1, 2_000);
    proxy.dropConnections();
    const result = await sending;
    assert.equal(result.response, null);
    assert.equal(result.error?.kind, 'reset', result.error?.message);
    assert.equal(result.local, undefined, 'an attempt recorded, counted towards auto-disable');
  });

  test('HERALD_PROXY_BYPASS: the receivers it names go direct, the others through the proxy', async () => {
    const proxy = await proxyServer();
    const byName = { ...viaProxy(proxy.url), bypass: { names: ['localhost'], networks: [] } };
    const direct = await sender(byName).send(post(`http://localhost:${receiver.port}/hook`));
    assert.equal(direct.response?.status, 200, direct.error?.message);
    const tunnelled = await sender(byName).send(post(`http://127.0.0.1:${receiver.port}/hook`));
    assert.equal(tunnelled.response?.status, 200, tunnelled.error?.message);
    assert.deepEqual(
      proxy.connects.map((c) => c.authority),
      [`127.0.0.1:${receiver.port}`],
      'only the address the list does not name went through the proxy',
    );
    const byNetwork = { ...viaProxy(proxy.url), bypass: { names: [], networks: ['127.0.0.0/8'] } };
    const direct2 = await sender(byNetwork).send(post(`http://127.0.0.1:${receiver.port}/hook`));
    assert.equal(direct2.response?.status, 200, direct2.error?.message);
    assert.equal(proxy.connects.length, 1);
    // Direct, the guard still judges: a bypassed receiver outside the allowed networks is refused.
    const guarded = await sender(byName, { allowNetworks: [] }).send(
      post(`http://localhost:${receiver.port}/hook`),
    );
    assert.equal(guarded.error?.kind, 'blocked', guarded.error?.message);
  });

  test('the SSRF guard still decides: a name or address outside the allowed networks never reaches the proxy', async () => {
    const proxy = await proxyServer();
    const s = sender(viaProxy(proxy.url), { allowNetworks: [] });
    const byName = await s.send(post(`http://localhost:${receiver.port}/hook`));
    const byAddress = await s.send(post(`http://127.0.0.1:${receiver.port}/hook`));
    assert.equal(byName.error?.kind, 'blocked', byName.error?.message);
    assert.equal(byAddress.error?.kind, 'blocked', byAddress.error?.message);
    assert.deepEqual(proxy.connects, []);
  });
});
