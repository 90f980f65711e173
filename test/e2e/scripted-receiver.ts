/**
 * A loopback receiver whose answer to each request is decided by a function: status, headers,
 * delay, or hang (never answer). Records every request with its arrival time.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  /** Never answer (the sender's timeout decides). */
  hang?: boolean;
}

export interface ScriptedReceiver {
  url: string;
  hits: Hit[];
  /** Replaces the responder; it sees the 1-based number of the request. */
  script(fn: (hit: Hit, n: number) => Reply): void;
  waitFor(count: number, timeoutMs?: number): Promise<Hit[]>;
  close(): Promise<void>;
}

export async function startScriptedReceiver(
  respond: (hit: Hit, n: number) => Reply = () => ({}),
): Promise<ScriptedReceiver> {
  const hits: Hit[] = [];
  let responder = respond;
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit: Hit = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      hits.push(hit);
      const r = responder(hit, hits.length);
      if (r.hang) {
        hanging.push(res);
        return;
      }
      const send = () => res.writeHead(r.status ?? 200, r.headers).end(r.body ?? 'ok');
      if (r.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    script(fn) {
      responder = fn;
    },
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (hits.length < count) {
        if (Date.now() > deadline)
          throw new Error(`receiver got ${hits.length} of ${count} requests in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return hits.slice();
    },
    close() {
      for (const res of hanging) res.destroy();
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
