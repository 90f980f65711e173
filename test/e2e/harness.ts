/**
 * End-to-end harness: runs the real `herald serve` as a child process (the same entry point as
 * `npx herald`), on a temporary data directory, and a loopback receiver to deliver to.
 *
 * The data directory it makes is in memory where the machine has room (MEMORY_TEMP_DIR,
 * test/support/memory-dir.ts): the same SQLite database, but a durable commit's fsync costs
 * nothing there, and a test seeding or sending through the API waits for one a request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Agent, fetch } from 'undici';
import { MEMORY_TEMP_DIR } from '../support/memory-dir.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** Node 24 from the `node` devDependency: the system node may be older. */
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
/**
 * The bin's shebang (`#!/usr/bin/env -S NAME=value … node --flag …`): `npx herald` runs with its
 * environment settings and Node flags, so the tests and the benchmark do too.
 */
const SHEBANG = /^#!\S*env -S (.*?)\bnode\b(.*)$/.exec(readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '');
const words = (text: string | undefined): string[] => (text ?? '').trim().split(/\s+/).filter(Boolean);
const NODE_FLAGS = words(SHEBANG?.[2]);
const SHEBANG_ENV: Record<string, string> = Object.fromEntries(
  words(SHEBANG?.[1]).map((assignment) => assignment.split('=', 2) as [string, string]),
);

/**
 * How long startHerald waits for the ready line unless told otherwise. The wait only stops a start
 * that hangs; it is no bound on how fast Herald starts (no test asserts that: bench/ measures it).
 * A start takes ~2.5 s of Herald's CPU (with its type stripping, 4 starts at load ~12, 2026-12-07),
 * and a process on a 2-core machine at a load of 20 gets about a tenth of a core: 9-21 s of wall
 * time at load 12 already, 20-30 s at 20, and four starts at once (cli-commit-answer-lost) four
 * times that. The default was 20 s, and files raised it one by one to 30 or 60 s as each ran out
 * (cli-api, backup-restore, the browser files, the PostgreSQL ones): one bound, here, for all. A
 * file passes a shorter readyTimeoutMs only when it expects no ready line (a start that is refused);
 * a start that logs none (HERALD_LOG_LEVEL=silent) is waited for on /readyz (readyPort).
 */
export const READY_WAIT_MS = 120_000;

/** How the ready line announces the URL (see src/main.ts). */
const READY_PATTERN = /herald ready on (http:\/\/[^\s"]+)/;

export interface StartOptions {
  /** Extra environment (HERALD_*); the parent's HERALD_* variables are never inherited. */
  env?: Record<string, string>;
  /** Extra `serve` flags. */
  args?: string[];
  /**
   * Reuse a data directory (restart on the same database); a fresh temporary one otherwise, in
   * memory where there is room (MEMORY_TEMP_DIR), deleted by dispose.
   */
  dataDir?: string;
  /** Give up waiting for the ready line after this long (READY_WAIT_MS unless given). */
  readyTimeoutMs?: number;
  /**
   * Listen on this port (HERALD_PORT) and wait for /readyz there to answer 200 instead of for the
   * ready line: for a start that logs none (HERALD_LOG_LEVEL=silent). Herald logs the ready line in
   * the same turn as /readyz turns 200, so once it has, the line is written if it ever will be.
   */
  readyPort?: number;
  /** Start under this open-file limit (`ulimit -n`, soft and hard). */
  openFileLimit?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HeraldProcess {
  /** Base URL from the ready line, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly dataDir: string;
  readonly pid: number;
  /** Everything the process wrote so far (stdout and stderr, interleaved as received). */
  output(): string;
  /** Lines of stdout parsed as JSON (log lines); other lines are skipped. */
  logLines(): Record<string, unknown>[];
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** Resolves when the process exits by itself. */
  readonly exited: Promise<Exit>;
  /** Kills this process if it still runs, then starts a new one on the same data directory and env. */
  restart(): Promise<HeraldProcess>;
  /** Kills (SIGKILL) if still running and deletes the data directory if the harness created it. */
  dispose(): Promise<void>;
}

/** Environment the child gets: enough to run node, nothing of the parent's HERALD_* settings. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT'];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Starts `herald serve` on port 0 (bound to 127.0.0.1) and resolves once it has logged its ready
 * line. Rejects, with the output so far, if it exits or does not become ready in time.
 */
/**
 * Runs `herald ARGS` to completion (a refused start, a CLI command) and collects its output. Only
 * PATH and `env` reach it: HERALD_* of the test process never leak in. A process still running
 * after `killAfterMs` (one that started when it should have been refused) is killed, so the test
 * fails on its exit code instead of hanging.
 */
export function runHerald(
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    killAfterMs?: number;
    /** A file descriptor for its stdout instead of a pipe (then `stdout` is ''). */
    stdoutFd?: number;
    /** Run as this user and group (the test must run as root): what permissions stop, root passes. */
    user?: { uid: number; gid: number };
    /** Written to its stdin, which is then closed (otherwise stdin stays open and empty). */
    input?: string;
  } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'],
      ...options.user,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c));
    child.stderr?.on('data', (c: Buffer) => (stderr += c));
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

export async function startHerald(options: StartOptions = {}): Promise<HeraldProcess> {
  return start(options, options.dataDir === undefined);
}

/** `ownsDataDir`: the data directory is the harness's, deleted by dispose (passed on by restart). */
async function start(options: StartOptions, ownsDataDir: boolean): Promise<HeraldProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(MEMORY_TEMP_DIR, 'herald-e2e-'));
  const env = {
    ...baseEnv(),
    ...SHEBANG_ENV,
    HERALD_PORT: '0',
    HERALD_HOST: '127.0.0.1',
    HERALD_DATA_DIR: dataDir,
    HERALD_LOG_LEVEL: 'info',
    ...options.env,
    ...(options.readyPort === undefined ? {} : { HERALD_PORT: String(options.readyPort) }),
  };
  const argv = [NODE, ...NODE_FLAGS, BIN, 'serve', ...(options.args ?? [])];
  const [command, ...args] =
    options.openFileLimit === undefined
      ? argv
      : ['/bin/sh', '-c', `ulimit -n ${options.openFileLimit} && exec "$0" "$@"`, ...argv];
  const child = spawn(command!, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });

  let url: string;
  try {
    const timeoutMs = options.readyTimeoutMs ?? READY_WAIT_MS;
    url =
      options.readyPort === undefined
        ? await waitForReady(child, () => stdout, exited, timeoutMs)
        : await waitForReadyz(`http://127.0.0.1:${options.readyPort}`, exited, timeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n--- herald output ---\n${output}`);
  }

  let running = true;
  void exited.then(() => {
    running = false;
  });

  const handle: HeraldProcess = {
    url,
    dataDir,
    pid: child.pid ?? -1,
    exited,
    output: () => output,
    logLines: () => parseJsonLines(stdout),
    async kill(signal = 'SIGTERM') {
      closeClientOf(url);
      if (running) child.kill(signal);
      return exited;
    },
    async restart() {
      if (running) await handle.kill('SIGKILL');
      // The new process inherits the directory and, with it, the duty to delete it (however many
      // restarts follow).
      return start({ ...options, dataDir }, ownsDataDir);
    },
    async dispose() {
      if (running) {
        child.kill('SIGKILL');
        await exited;
      }
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

function waitForReady(
  child: ChildProcess,
  stdout: () => string,
  exited: Promise<Exit>,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolveReady, reject) => {
    const check = () => {
      const match = READY_PATTERN.exec(stdout());
      if (match?.[1]) {
        cleanup();
        resolveReady(match[1]);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`herald did not log its ready line within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
    };
    child.stdout?.on('data', check);
    void exited.then((exit) => {
      cleanup();
      reject(new Error(`herald exited before it was ready (code ${exit.code}, signal ${exit.signal})`));
    });
    check();
  });
}

/** Resolves `url` once its /readyz answers 200; rejects if the process exits or `timeoutMs` passes. */
async function waitForReadyz(url: string, exited: Promise<Exit>, timeoutMs: number): Promise<string> {
  let exit: Exit | undefined;
  void exited.then((e) => {
    exit = e;
  });
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (exit) throw new Error(`herald exited before it was ready (code ${exit.code}, signal ${exit.signal})`);
    // On api()'s connection to it, which kill() closes (an idle one would hold a SIGTERM 1 s).
    const status = await fetch(`${url}/readyz`, { dispatcher: clientOf(url) }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => 0,
    );
    if (status === 200) return url;
    if (Date.now() > end) throw new Error(`herald's /readyz did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseJsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut in half by a kill: not a log line we can use.
    }
  }
  return lines;
}

/** One request the receiver got. */
export interface ReceivedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface Receiver {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Status (and body) of the next responses; 200 by default. */
  respondWith(status: number, body?: string): void;
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** A loopback HTTP server that records every request and answers with a chosen status. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let status = 200;
  let responseBody = '{"received":true}';

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end(responseBody);
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(nextStatus, nextBody = '') {
      status = nextStatus;
      responseBody = nextBody;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolveWait, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolveWait(requests.slice());
          },
        });
      });
    },
    close() {
      return new Promise((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      });
    },
  };
}

/**
 * The connections api() keeps alive to each Herald, by origin. A Herald that stops (SIGTERM) keeps
 * idle kept-alive connections open 1 s in case a request is on its way on one
 * (src/api/drain-idle-connections.ts): kill() closes this process's first, so that a stop of a
 * Herald the test has called does not take 1 s more. Requests still in flight finish first; the
 * next api() call opens a new connection.
 */
const clients = new Map<string, Agent>();
function clientOf(baseUrl: string): Agent {
  const origin = new URL(baseUrl).origin;
  let client = clients.get(origin);
  if (!client) {
    client = new Agent();
    clients.set(origin, client);
  }
  return client;
}
function closeClientOf(baseUrl: string): void {
  const origin = new URL(baseUrl).origin;
  const client = clients.get(origin);
  clients.delete(origin);
  void client?.close().catch(() => undefined);
}

/** fetch() against Herald with a bearer token; returns status and parsed JSON body. */
export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    dispatcher: clientOf(baseUrl),
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}
