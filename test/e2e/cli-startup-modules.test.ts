/**
 * The CLI's commands other than serve, migrate and event-types import start without the server's
 * modules (Fastify, Ajv, prom-client, pino, the stores): loading those took ~0.6 s of every
 * `herald projects list` (1.0 s against 0.43 for `herald --version`). Each command is a real
 * process of bin/herald.js with a load hook that lists what it loaded.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { runHerald, startHerald } from './harness.ts';

const HOOK = resolve(import.meta.dirname, '../fixtures/loaded-modules.mjs');
const dir = mkdtempSync(join(tmpdir(), 'herald-cli-modules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What a server or a store loads, and a client command must not. */
const SERVER_ONLY = [
  /node_modules\/fastify\//,
  /node_modules\/ajv\//,
  /node_modules\/prom-client\//,
  /node_modules\/pino\//,
  /node_modules\/pg\//,
  /\/src\/main\.ts$/,
  /\/src\/api\/build-app\.ts$/,
  /\/src\/store\/open-store\.ts$/,
  /\/src\/delivery\/dispatcher\.ts$/,
];

let runs = 0;
async function loadedBy(args: string[]): Promise<{ code: number | null; modules: string[] }> {
  const out = join(dir, `loaded-${++runs}.txt`);
  const run = await runHerald(args, {
    env: { NODE_OPTIONS: `--import=${HOOK}`, LOADED_MODULES_OUT: out, HERALD_TOKEN: 'cli-modules' },
  });
  return { code: run.code, modules: readFileSync(out, 'utf8').split('\n') };
}

test('client commands, --version and --help load none of the server modules; migrate loads the store when it runs', async () => {
  // A port nobody listens on: the command fails after loading everything it needs to ask.
  const url = `http://127.0.0.1:${await freePort()}`;
  for (const args of [
    ['--version'],
    ['serve', '--help'],
    ['projects', 'list', '--url', url],
    ['events', 'list', '--url', url, '--project', 'prj_x'],
    ['endpoints', 'list', '--url', url, '--project', 'prj_x'],
    ['event-types', 'list', '--url', url],
    ['listen', '--url', url, '--project', 'prj_x', '--forward-to', 'http://127.0.0.1:1/hook'],
  ]) {
    const { modules } = await loadedBy(args);
    assert.ok(
      modules.some((m) => m.endsWith('/src/cli/main.ts')),
      `${args.join(' ')}: the hook saw the CLI load`,
    );
    const server = modules.filter((m) => SERVER_ONLY.some((pattern) => pattern.test(m)));
    assert.deepEqual(server, [], `herald ${args.join(' ')} loaded server modules`);
  }
  // The other side: the commands that need them still load them when they run.
  const migrated = await loadedBy(['migrate', '--database', `sqlite:${join(dir, 'herald.db')}`]);
  assert.equal(migrated.code, 0);
  assert.ok(migrated.modules.some((m) => /\/src\/store\/open-store\.ts$/.test(m)));
});

test('--version and --help load neither undici, the API client nor the signing code; an API command loads them when it runs', async () => {
  // undici alone was ~0.1 s of CPU in a 0.2 s `herald --version`.
  const CLIENT_ONLY = [
    /node_modules\/undici\//,
    /\/packages\/client\/src\/client\.ts$/,
    /\/packages\/verify\//,
    /\/src\/cli\/listen\/forwarder\.ts$/,
  ];
  for (const args of [
    ['--version'],
    ['--help'],
    ['serve', '--help'],
    ['events', 'list', '--help'],
    ['listen', '--help'],
  ]) {
    const { code, modules } = await loadedBy(args);
    assert.equal(code, 0, `herald ${args.join(' ')} exits 0`);
    assert.ok(
      modules.some((m) => m.endsWith('/src/cli/main.ts')),
      `${args.join(' ')}: the hook saw the CLI load`,
    );
    const client = modules.filter((m) => CLIENT_ONLY.some((pattern) => pattern.test(m)));
    assert.deepEqual(client, [], `herald ${args.join(' ')} loaded the API client`);
  }
  const url = `http://127.0.0.1:${await freePort()}`;
  const listed = await loadedBy(['projects', 'list', '--url', url]);
  assert.equal(listed.code, 1, 'nobody listens there');
  assert.ok(listed.modules.some((m) => /node_modules\/undici\//.test(m)));
});

/** What `herald serve`'s main thread loads until it is stopped, with no request made. */
async function loadedByServe(env: Record<string, string>, hook = HOOK): Promise<string[]> {
  return (await loadedByServeThreads(env, hook)).main;
}

/** As loadedByServe, with what its dispatcher thread loaded (the hook's `.worker` file). */
async function loadedByServeThreads(
  env: Record<string, string>,
  hook = HOOK,
): Promise<{ main: string[]; worker: string[] }> {
  const out = join(dir, `loaded-${++runs}.txt`);
  const herald = await startHerald({
    env: { NODE_OPTIONS: `--import=${hook}`, LOADED_MODULES_OUT: out, ...env },
  });
  await herald.kill('SIGTERM');
  await herald.dispose();
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n');
  return { main: lines(out), worker: existsSync(`${out}.worker`) ? lines(`${out}.worker`) : [] };
}

test("herald serve on SQLite, dispatcher on its thread: until a request, the main thread loads no dispatcher, undici, pg, route validators or serializers, nor Ajv, nor the other commands' modules", async () => {
  const NOT_ON_MAIN = [
    /node_modules\/undici\//,
    /\/src\/delivery\/dispatcher\.ts$/,
    /\/src\/delivery\/sender\.ts$/,
    /node_modules\/pg\//,
    // Route validators are compiled at a route's first request (src/api/lazy-validators.ts).
    /node_modules\/@fastify\/ajv-compiler\//,
    // Nor is the serializer compiler loaded: no route has a response schema (lazy-serializers.ts).
    /node_modules\/@fastify\/fast-json-stringify-compiler\//,
    /node_modules\/fast-json-stringify\/index\.js$/, // (its lib/serializer.js runs Fastify's error answers)
    /node_modules\/ajv\/dist\/ajv\.js$/,
    // The catalog's schema checks (Ajv's drafts 2019-09 and 2020-12) load at the first check.
    /\/src\/domain\/event-type-schema\.ts$/,
    /node_modules\/ajv\/dist\/20(19|20)\.js$/,
  ];
  const modules = await loadedByServe({});
  assert.ok(
    modules.some((m) => m.endsWith('/src/main.ts')),
    'the hook saw the server load',
  );
  assert.deepEqual(
    modules.filter((m) => NOT_ON_MAIN.some((pattern) => pattern.test(m))),
    [],
  );
  // Nor the other commands' modules: the CLI builds serve's alone (src/cli/command-groups.ts).
  assert.deepEqual(
    modules.filter((m) => /\/src\/cli\/(commands\/(?!serve)[^/]+|api-connection)\.ts$/.test(m)),
    [],
  );
  // The other side: a dispatcher on the main thread loads them there.
  const onMain = await loadedByServe({ HERALD_DELIVERY_THREAD: 'false' });
  assert.ok(onMain.some((m) => m.endsWith('/src/delivery/dispatcher.ts')));
  assert.ok(onMain.some((m) => /node_modules\/undici\//.test(m)));
});

test("herald serve's dispatcher thread loads undici's Pool and connector, not its index (fetch, WebSocket, cookies)", async () => {
  // The index loads every part of undici, and its cookies module reads globalThis.Headers, which
  // loads Node's own undici too: ~0.1 s of the thread's CPU at each start (src/delivery/undici-parts.ts).
  const { worker } = await loadedByServeThreads({});
  assert.ok(
    worker.some((m) => m.endsWith('/src/delivery/sender.ts')),
    'the hook saw the dispatcher thread load the sender',
  );
  assert.ok(worker.some((m) => m.endsWith('/node_modules/undici/lib/dispatcher/pool.js')));
  assert.deepEqual(
    worker.filter((m) => /node_modules\/undici\/(index\.js$|lib\/(web|mock|cache)\/)/.test(m)),
    [],
  );
});

test("herald serve: Node's built-in fetch (undici) is not loaded by an ES import of node:http", async () => {
  // Node fills an ES module's view of node:http by reading every export, which loads its fetch:
  // ~0.03 s of CPU at start, on each thread that does it (src/api/errors.ts).
  const native = await loadedByServe({}, resolve(import.meta.dirname, '../fixtures/native-modules.mjs'));
  assert.ok(native.includes('NativeModule internal/modules/esm/loader'), 'the hook saw Node load');
  assert.ok(!native.includes('NativeModule internal/deps/undici/undici'), native.join(' '));
});

test('herald serve and migrate on PostgreSQL load neither node:sqlite nor the SQLite store', async () => {
  // A port nobody listens on: the start fails at the database, after loading what it would run.
  const database = `postgres://herald@127.0.0.1:${await freePort()}/herald`;
  for (const args of [
    ['serve', '--port', '0', '--database', database],
    ['migrate', '--database', database],
  ]) {
    const { code, modules } = await loadedBy(args);
    assert.equal(code, 1, `herald ${args.join(' ')}: the database is not there`);
    assert.ok(
      modules.some((m) => m.endsWith('/src/store/open-store.ts')),
      `${args[0]}: the hook saw it load`,
    );
    const sqlite = modules.filter(
      (m) => m === 'node:sqlite' || m.endsWith('/src/store/sqlite/sqlite-store.ts'),
    );
    assert.deepEqual(sqlite, [], `herald ${args.join(' ')} loaded SQLite`);
  }
});
