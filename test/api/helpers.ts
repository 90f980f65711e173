/** A real API over a real SQLite store (or one the test opens), driven with app.inject(). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type MetricsSource } from '../../src/api/build-app.ts';
import type { Config } from '../../src/config/config-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';
import { within } from '../support/wait-until.ts';

export const ADMIN = 'api-test-admin-token-0123456789abcdef';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read loosely in tests
export type Body = any;

export interface Reply {
  status: number;
  body: Body;
  /** The body as sent (set by `call`). */
  text?: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface CallOptions {
  token?: string | null;
  headers?: Record<string, string>;
  /** Sent as is (malformed JSON, other content types). */
  raw?: string;
  contentType?: string;
}

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  config: Config;
  /** Temporary data directory (removed by close). */
  dir: string;
  call(method: string, url: string, body?: unknown, options?: CallOptions): Promise<Reply>;
  /** Creates a project (admin) and returns it. */
  project(name: string, extra?: Record<string, unknown>): Promise<Body>;
  /** Creates a project API key and returns the key. */
  apiKey(projectId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startApi(
  over: Partial<Config> = {},
  extra: {
    metrics?: MetricsSource /** A database file in `dir` instead of memory. */;
    onDisk?: boolean;
    /** A store opened by the test (PostgreSQL: onBothStores), which close() leaves open. */
    store?: Store;
  } = {},
): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-api-'));
  const config: Config = {
    ...loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: dir } }),
    ...over,
  };
  const store =
    extra.store ?? (await openStore(extra.onDisk ? `sqlite:${join(dir, 'herald.db')}` : 'sqlite::memory:'));
  const app = buildApp({ store, config, ...(extra.metrics ? { metrics: extra.metrics } : {}) });
  await app.ready();

  const call = async (method: string, url: string, body?: unknown, o: CallOptions = {}): Promise<Reply> => {
    const token = o.token === undefined ? ADMIN : o.token;
    const payload = o.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(payload === undefined ? {} : { 'content-type': o.contentType ?? 'application/json' }),
        ...o.headers,
      },
      ...(payload === undefined ? {} : { payload }),
    });
    const text = response.body;
    let parsed: Body = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.statusCode, body: parsed, text, headers: response.headers };
  };

  return {
    app,
    store,
    config,
    dir,
    call,
    async project(name, extraFields = {}) {
      const r = await call('POST', '/api/v1/projects', { name, ...extraFields });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body;
    },
    async apiKey(projectId) {
      const r = await call('POST', `/api/v1/projects/${projectId}/api-keys`, { name: 'backend' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.key;
    },
    async close() {
      // A teardown: every request has been answered, and a listening app would otherwise hold
      // fetch's kept-alive connection 1 s (close-answered-connections.ts).
      closeAnsweredConnections(app.server);
      await app.close();
      if (!extra.store) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Makes `app` listen on a loopback port (listen(0)) and returns its address and a caller that
 * sends real HTTP with fetch (the URL as given: a `+` in a query string stays a `+` on the wire),
 * with the admin token. Answers parsed as JSON where they are JSON.
 */
export async function listenForFetch(app: FastifyInstance) {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown): Promise<Reply & { text: string }> => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    let parsed: Body = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: r.status, body: parsed, text, headers: Object.fromEntries(r.headers) };
  };
  return { base, port, call };
}

/** Asserts the error shape and returns it. */
export function assertError(reply: Reply, status: number, code?: string, field?: string): Body {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(typeof reply.body?.error?.code, 'string', JSON.stringify(reply.body));
  assert.equal(typeof reply.body.error.message, 'string');
  if (code) assert.equal(reply.body.error.code, code);
  if (field) assert.equal(reply.body.error.details?.field, field, JSON.stringify(reply.body));
  return reply.body.error;
}

/**
 * Sends `head` (request line and headers, without the blank line) to a listening server on
 * loopback announcing a 100 MB body, and 1 MB of it: what it answered, and whether it closed the
 * connection within 5 s (kept alive, it would go on reading whatever the client sends).
 */
export async function announceLargeBody(
  port: number,
  head: string,
): Promise<{ answer: string; closed: boolean }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`${head}Content-Length: 104857600\r\n\r\n`);
  socket.write(Buffer.alloc(1024 * 1024, 0x20));
  const closed = await within(
    ended.then(() => true),
    5_000,
    false,
  );
  socket.destroy();
  return { answer, closed };
}
