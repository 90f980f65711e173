/**
 * The sender's bound on open sockets across every pool (maxSockets, from the open-file limit: a
 * tester ran a process out of file descriptors with 100 endpoints on 100 origins): real loopback
 * servers count the connections open at once across all of them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { parseOpenFileLimit, socketBudget } from '../../src/delivery/fd-limit.ts';
import { createSender, type Sender } from '../../src/delivery/sender.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/**
 * `n` servers answering 200 after `delayMs` (paths in `slow`: after 150 ms), keeping connections
 * alive, counting them all together.
 */
async function servers(n: number, delayMs: number, slow: ReadonlySet<string> = new Set()) {
  const count = { open: 0, peak: 0 };
  const list: Server[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((req, res) => {
      setTimeout(() => res.end('ok'), slow.has(req.url ?? '') ? 150 : delayMs);
    });
    server.keepAliveTimeout = 30_000; // longer than the test: a socket that closes was closed by the sender
    server.on('connection', (socket) => {
      count.open++;
      count.peak = Math.max(count.peak, count.open);
      socket.on('close', () => count.open--);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    list.push(server);
  }
  const urls = list.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`);
  const close = async () => {
    for (const s of list) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  };
  return { urls, count, close };
}

/** For each URL in turn, `perUrl` requests at once, each URL its own pool (an endpoint of its own). */
async function originByOrigin(sender: Sender, urls: string[], perUrl: number) {
  const statuses: (number | string)[] = [];
  for (const [i, url] of urls.entries()) {
    const results = await Promise.all(
      Array.from({ length: perUrl }, () =>
        sender.send({ method: 'POST', url, headers: {}, body: '{}', timeoutMs: 10_000, poolKey: `ep_${i}` }),
      ),
    );
    statuses.push(...results.map((r) => r.response?.status ?? String(r.error?.message)));
  }
  return statuses;
}

describe('sender: open sockets across pools', () => {
  test('with maxSockets 3, pools no attempt uses are closed to make room: 6 origins in turn never hold their 18 sockets', async () => {
    const s = await servers(6, 20);
    const sender = createSender({
      allowNetworks: LOOPBACK,
      maxResponseBytes: 1024,
      userAgent: 't',
      maxSockets: 3,
    });
    try {
      const statuses = await originByOrigin(sender, s.urls, 3);
      assert.deepEqual(
        statuses,
        statuses.map(() => 200),
      );
      // Each origin's 3 dials closed the idle pool before it (their close lands a moment later).
      assert.ok(s.count.peak <= 6, `peak ${s.count.peak} sockets`);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(s.count.open <= 3, `${s.count.open} sockets still open`);
    } finally {
      await sender.close();
      await s.close();
    }
  });

  test('with maxSockets 4, pools still in use give up their idle sockets to make room', async () => {
    const slowPaths = new Set(['/slow']);
    const s = await servers(6, 0, slowPaths);
    const sender = createSender({
      allowNetworks: LOOPBACK,
      maxResponseBytes: 1024,
      userAgent: 't',
      maxSockets: 4,
    });
    try {
      const slow: Promise<unknown>[] = [];
      for (const [i, url] of s.urls.entries()) {
        const send = (path: string) =>
          sender.send({
            method: 'POST',
            url: url.replace('/hook', path),
            headers: {},
            body: '{}',
            timeoutMs: 10_000,
            poolKey: `ep_${i}`,
          });
        // One attempt stays in flight on this origin's pool while two others finish: two idle sockets.
        slow.push(send('/slow'));
        const fast = await Promise.all([send('/hook'), send('/hook')]);
        assert.ok(fast.every((r) => r.response?.status === 200));
      }
      assert.ok(
        (await Promise.all(slow)).every(
          (r) => (r as { response?: { status: number } }).response?.status === 200,
        ),
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(s.count.peak < 18, `peak ${s.count.peak}: every pool kept its sockets`);
      assert.ok(s.count.open <= 4, `${s.count.open} sockets still open`);
    } finally {
      await sender.close();
      await s.close();
    }
  });

  test('without it every pool keeps its sockets (what the bound prevents)', async () => {
    const s = await servers(6, 20);
    const sender = createSender({ allowNetworks: LOOPBACK, maxResponseBytes: 1024, userAgent: 't' });
    try {
      const statuses = await originByOrigin(sender, s.urls, 3);
      assert.ok(statuses.every((status) => status === 200));
      assert.equal(s.count.open, 18);
    } finally {
      await sender.close();
      await s.close();
    }
  });

  test('the open-file limit: parsed from /proc/<pid>/limits, and what it leaves for sockets', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             95000                95000                processes ',
      'Max open files            1024                 524288               files     ',
    ].join('\n');
    assert.equal(parseOpenFileLimit(limits), 1024);
    assert.equal(parseOpenFileLimit(limits.replace('1024   ', 'unlimited')), null);
    assert.equal(parseOpenFileLimit('Max processes 5 5 processes'), null);
    assert.equal(socketBudget(1024), 768);
    assert.equal(socketBudget(256), 16, 'never fewer than 16');
    assert.equal(socketBudget(null), null);
  });
});
