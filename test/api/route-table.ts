/**
 * The API as test/api/helpers.ts starts it (real SQLite store, app.inject), plus the list of every
 * route the app registered, read with an `onRoute` hook: the fuzzer and the authorization matrix
 * cover whatever routes exist, so a new route cannot go untested.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { buildApp, type MetricsSource } from '../../src/api/build-app.ts';
import type { Config } from '../../src/config/config-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { ADMIN } from './helpers.ts';

/** JSON Schema, read loosely. */
// biome-ignore lint/suspicious/noExplicitAny: schemas are walked generically
export type Schema = any;

export interface RegisteredRoute {
  method: string;
  /** As registered, e.g. `/api/v1/projects/:project/endpoints/:endpoint`. */
  url: string;
  /** `:name` parameters in order. */
  params: string[];
  body: Schema | undefined;
  querystring: Schema | undefined;
  /** Fastify's response schemas (it would serialize with them); Herald registers none. */
  response: Schema | undefined;
  /** What the route declared a caller needs (`config.access`, src/api/key-scope.ts). */
  access: unknown;
  /** Whether the route declared portal tokens may use it (`config.portal`, src/api/portal-access.ts). */
  portal: unknown;
}

export interface InjectReply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read loosely in tests
  json: any;
}

export interface RoutedApi {
  app: FastifyInstance;
  store: Store;
  config: Config;
  routes: RegisteredRoute[];
  /** Raw inject: headers as given, payload as given (string or bytes). */
  inject(request: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: string | Buffer;
  }): Promise<InjectReply>;
  close(): Promise<void>;
}

export async function startRoutedApi(
  over: Partial<Config> = {},
  extra: {
    env?: Record<string, string>;
    metrics?: MetricsSource;
    /** A store to serve instead of a new `sqlite::memory:` one; its opener closes it. */
    store?: Store;
  } = {},
): Promise<RoutedApi> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-routes-'));
  const config: Config = {
    ...loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: dir, ...extra.env } }),
    ...over,
  };
  const store = extra.store ?? (await openStore('sqlite::memory:'));
  const app = buildApp({ store, config, ...(extra.metrics ? { metrics: extra.metrics } : {}) });
  const routes: RegisteredRoute[] = [];
  // Routes live in plugins, which load at ready(): a hook added now sees every one of them.
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as { body?: Schema; querystring?: Schema; response?: Schema };
    for (const method of methods) {
      routes.push({
        method,
        url: route.url,
        params: [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!),
        body: schema.body,
        querystring: schema.querystring,
        response: schema.response,
        access: (route.config as { access?: unknown } | undefined)?.access,
        portal: (route.config as { portal?: unknown } | undefined)?.portal,
      });
    }
  });
  await app.ready();
  app.setReady(true); // as src/main.ts does once started

  return {
    app,
    store,
    config,
    routes,
    async inject({ method, url, headers = {}, payload }) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
      let json: unknown = null;
      try {
        json = response.body ? JSON.parse(response.body) : null;
      } catch {
        json = undefined;
      }
      return { status: response.statusCode, headers: response.headers, text: response.body, json };
    },
    async close() {
      await app.close();
      if (!extra.store) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Routes anyone may call without a token; anything else outside /api/ must be added here on purpose. */
export const PUBLIC_ROUTES: RegExp[] = [
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
  /^\/openapi\.json$/,
  /^\/docs(\/.*)?$/,
  /^\/ui(\/\*)?$/,
];

export const isApiRoute = (route: { url: string }) => route.url.startsWith('/api/');
