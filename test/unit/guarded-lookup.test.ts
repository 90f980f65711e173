/**
 * The connect-time half of the SSRF guard, with a stub resolver: DNS rebinding (a name that resolves
 * to an allowed address first and a refused one later), mixed answers, families. No socket is opened
 * here except towards loopback servers, and no real DNS is asked.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { BlockedAddressError, type ConnectLookup, guardedLookup } from '../../src/delivery/guarded-lookup.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { parseCidr, parseIpLiteral } from '../../src/domain/address-classifier.ts';
import { errorKindFromError } from '../../src/domain/classify-outcome.ts';

type Answer = { err: Error | null; address: string | LookupAddress[]; family?: number };

function call(
  lookup: ConnectLookup,
  hostname: string,
  options: { all?: boolean; family?: number | string } = {},
) {
  return new Promise<Answer>((resolve) =>
    lookup(hostname, options, (err, address, family) => resolve({ err, address, family })),
  );
}

/** A resolver that answers each call with the next list (the last one repeats), counting calls. */
function rebinding(...answers: LookupAddress[][]) {
  const calls: string[] = [];
  const resolveAll = async (hostname: string) => {
    calls.push(hostname);
    return answers[Math.min(calls.length - 1, answers.length - 1)]!;
  };
  return { resolveAll, calls };
}

const V4 = (address: string): LookupAddress => ({ address, family: 4 });
const V6 = (address: string): LookupAddress => ({ address, family: 6 });

describe('guardedLookup', () => {
  const allow = [parseCidr('127.0.0.2/32')];

  test('DNS rebinding: allowed on the first lookup, refused on the second, each judged when it happens', async () => {
    const stub = rebinding([V4('127.0.0.2')], [V4('127.0.0.1')], [V4('169.254.169.254')]);
    const lookup = guardedLookup(stub.resolveAll, allow);
    const first = await call(lookup, 'rebind.test');
    assert.equal(first.err, null);
    assert.equal(first.address, '127.0.0.2');
    assert.equal(first.family, 4);
    const second = await call(lookup, 'rebind.test');
    assert.ok(second.err instanceof BlockedAddressError, String(second.err));
    assert.match(second.err.message, /^rebind\.test resolves to an address that is not allowed/);
    assert.doesNotMatch(second.err.message, /127\.0\.0\.1/, 'the address is not said');
    assert.equal(errorKindFromError(second.err), 'blocked');
    const third = await call(lookup, 'rebind.test', { all: true });
    assert.ok(third.err instanceof BlockedAddressError);
    assert.deepEqual(third.address, [], 'no address leaks out with the refusal');
    assert.deepEqual(stub.calls, ['rebind.test', 'rebind.test', 'rebind.test'], 'nothing is cached');
  });

  test('one refused address among allowed ones refuses the name (no racing to the bad one)', async () => {
    const lookup = guardedLookup(rebinding([V4('127.0.0.2'), V6('::1')]).resolveAll, allow);
    for (const options of [{}, { all: true }, { family: 4 }, { family: 'IPv4' }]) {
      const answer = await call(lookup, 'mixed.test', options);
      assert.ok(answer.err instanceof BlockedAddressError, JSON.stringify(options));
      assert.match(answer.err.message, /^mixed\.test resolves to an address that is not allowed/);
      assert.doesNotMatch(answer.err.message, /::1|127\.0\.0\.2/);
    }
  });

  test('every non-public answer is refused without an allowlist, whatever the spelling the resolver uses', async () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '169.254.169.254',
      '::1',
      '::ffff:127.0.0.1',
      'fe80::1',
      '64:ff9b::7f00:1',
      '0.0.0.0',
      '::',
    ]) {
      const family = address.includes(':') ? 6 : 4;
      const lookup = guardedLookup(rebinding([{ address, family }]).resolveAll, []);
      const answer = await call(lookup, 'evil.test');
      assert.ok(answer.err instanceof BlockedAddressError, address);
    }
  });

  test('allowed answers are handed over in the shape net.connect asked for', async () => {
    const both = [V4('127.0.0.2'), V6('::ffff:127.0.0.2')];
    const lookup = guardedLookup(rebinding(both).resolveAll, allow);
    assert.deepEqual((await call(lookup, 'ok.test', { all: true })).address, both);
    assert.deepEqual(await call(lookup, 'ok.test', { family: 6 }), {
      err: null,
      address: '::ffff:127.0.0.2',
      family: 6,
    });
    assert.deepEqual((await call(lookup, 'ok.test', { family: 4, all: true })).address, [both[0]]);
  });

  test('no address, or none of the wanted family, is a dns failure, not a refusal', async () => {
    const none = await call(guardedLookup(rebinding([]).resolveAll, allow), 'empty.test');
    assert.equal(errorKindFromError(none.err), 'dns');
    const v4only = await call(guardedLookup(rebinding([V4('127.0.0.2')]).resolveAll, allow), 'v4.test', {
      family: 6,
    });
    assert.equal(errorKindFromError(v4only.err), 'dns');
  });

  test('localhost names are loopback without asking the resolver, whatever it would answer', async () => {
    const stub = rebinding([V4('127.0.0.2')]); // a resolver that would say "allowed"
    const names = ['localhost', 'localhost.', 'LOCALHOST', 'LocalHost..', 'api.localhost', 'a.b.localhost.'];
    for (const name of names) {
      const refused = await call(guardedLookup(stub.resolveAll, allow), name);
      assert.ok(refused.err instanceof BlockedAddressError, name);
      assert.equal(errorKindFromError(refused.err), 'blocked');
      assert.ok((await call(guardedLookup(stub.resolveAll, []), name)).err instanceof BlockedAddressError);
    }
    assert.deepEqual(stub.calls, [], 'no localhost name reached the resolver');
    // with loopback allowed, the allowed loopback addresses are used
    const v4only = guardedLookup(stub.resolveAll, [parseCidr('127.0.0.0/8')]);
    assert.deepEqual(await call(v4only, 'localhost.'), { err: null, address: '127.0.0.1', family: 4 });
    const both = guardedLookup(stub.resolveAll, [parseCidr('127.0.0.1'), parseCidr('::1')]);
    assert.deepEqual(
      ((await call(both, 'localhost', { all: true })).address as LookupAddress[]).map((a) => a.address),
      ['127.0.0.1', '::1'],
    );
    // names that only look like it are resolved as usual
    for (const name of ['localhost.example', 'notlocalhost', 'localhostx']) {
      assert.equal((await call(guardedLookup(stub.resolveAll, allow), name)).address, '127.0.0.2', name);
    }
  });

  test('a name resolving to a cloud metadata address is refused although an allowed network holds it', async () => {
    const wide = [parseCidr('169.254.0.0/16'), parseCidr('fd00::/8')];
    for (const address of [V4('169.254.169.254'), V6('fd00:ec2::254'), V6('::ffff:169.254.169.254')]) {
      const lookup = guardedLookup(rebinding([V4('169.254.1.1'), address]).resolveAll, wide);
      const answer = await call(lookup, 'metadata.test', { all: true });
      assert.ok(answer.err instanceof BlockedAddressError, address.address);
      assert.deepEqual(answer.address, []);
    }
    const other = await call(guardedLookup(rebinding([V4('169.254.1.1')]).resolveAll, wide), 'link.test');
    assert.equal(other.address, '169.254.1.1');
  });

  test("a name resolving to one of this host's own public addresses is refused (it is this host)", async () => {
    const own = () => [parseIpLiteral('8.8.8.8')!];
    const stub = rebinding([V4('8.8.8.8')], [V6('::ffff:8.8.8.8')], [V4('8.8.4.4')]);
    const lookup = guardedLookup(stub.resolveAll, [], own);
    for (const options of [{}, { all: true }]) {
      const answer = await call(lookup, 'self.test', options);
      assert.ok(answer.err instanceof BlockedAddressError, JSON.stringify(answer));
      assert.equal(errorKindFromError(answer.err), 'blocked');
    }
    assert.equal((await call(lookup, 'other.test')).address, '8.8.4.4', 'another public host is allowed');
  });

  test('a resolver failure passes through as itself (error kind dns)', async () => {
    const failing = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const answer = await call(guardedLookup(failing, allow), 'nowhere.test');
    assert.equal(errorKindFromError(answer.err), 'dns');
  });
});

describe('DNS rebinding through the sender, against loopback servers', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  /** A server on `host` answering 200 with Connection: close, so every request dials anew. */
  async function server(host: string) {
    const seen = { connections: 0, requests: 0 };
    const s = createServer((req, res) => {
      seen.requests++;
      req.resume();
      res.writeHead(200, { connection: 'close' }).end(host);
    });
    s.on('connection', (_socket: Socket) => {
      seen.connections++;
    });
    await new Promise<void>((r) => s.listen(0, host, r));
    servers.push(s);
    return { port: (s.address() as AddressInfo).port, seen };
  }

  test('a name that resolved to the allowed host is refused once it resolves to another loopback address', async () => {
    // Both servers on one port number is not guaranteed, so the refused one listens on the port
    // the allowed one got, on another loopback address.
    const allowed = await server('127.0.0.2');
    const target = createServer((_req, res) => res.end('should never be reached'));
    let targetConnections = 0;
    target.on('connection', () => targetConnections++);
    const bound = await new Promise<boolean>((resolve) => {
      target.once('error', () => resolve(false));
      target.listen(allowed.port, '127.0.0.1', () => resolve(true));
    });
    if (bound) servers.push(target);
    const stub = rebinding([V4('127.0.0.2')], [V4('127.0.0.1')]);
    const sender = createSender({
      allowNetworks: ['127.0.0.2/32'],
      maxResponseBytes: 65536,
      userAgent: 'test',
      lookup: stub.resolveAll,
    });
    try {
      const url = `http://rebind.test:${allowed.port}/hook`;
      const request = { method: 'POST' as const, url, headers: {}, body: '{}', timeoutMs: 2_000 };
      const first = await sender.send(request);
      assert.equal(first.response?.status, 200, JSON.stringify(first.error));
      assert.equal(first.response?.body, '127.0.0.2');
      // the connection was closed by the server: the next request dials, and looks up, again
      await new Promise((r) => setTimeout(r, 50));
      const second = await sender.send(request);
      assert.equal(second.response, null);
      assert.equal(second.error?.kind, 'blocked', JSON.stringify(second));
      assert.match(second.error!.message, /rebind\.test/);
      assert.equal(stub.calls.length, 2);
      assert.equal(allowed.seen.requests, 1);
      assert.equal(targetConnections, 0, 'the refused address saw no connection');
    } finally {
      await sender.close();
    }
  });
  test("a refused name's attempt names the name, never the address Herald's resolver gave it", async () => {
    // Herald's resolver may answer names the internet cannot (split-horizon DNS, /etc/hosts): a
    // tenant who registers db.internal and reads the attempt must not learn where it is. The
    // stub's loopback answer stands for such an internal address; it is refused before any dial.
    const stub = rebinding([V4('127.0.0.53'), V6('::1')]);
    const sender = createSender({
      allowNetworks: [],
      maxResponseBytes: 65536,
      userAgent: 'test',
      lookup: stub.resolveAll,
    });
    try {
      for (const url of ['http://db.internal.test:9/hook', 'https://db.internal.test:9/hook']) {
        const request = { method: 'POST' as const, url, headers: {}, body: '{}', timeoutMs: 2_000 };
        const result = await sender.send(request);
        assert.equal(result.error?.kind, 'blocked', JSON.stringify(result));
        assert.match(result.error!.message, /db\.internal\.test resolves to an address that is not allowed/);
        assert.doesNotMatch(result.error!.message, /127\.0\.0\.53|::1/, result.error!.message);
      }
      assert.equal(stub.calls.length, 2);
    } finally {
      await sender.close();
    }
  });
});
