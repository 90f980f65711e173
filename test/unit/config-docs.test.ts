/**
 * docs/configuration.md names the settings the code reads, no more and no fewer: every `HERALD_*`
 * variable that loadConfig (the server) and resolveConnection (the CLI) read has a row in one of its
 * tables, and every row names a variable the code reads. The Flag column holds the flags of
 * `herald serve`, and the plain defaults (numbers and words) are what loadConfig gives when nothing
 * is set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { resolveConnection } from '../../src/config/client-connection.ts';
import type { Config } from '../../src/config/config-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
/** Read as text, not imported: importing it loads the whole server, seconds of a test that takes ms. */
const SERVE = readFileSync(resolve(import.meta.dirname, '../../src/cli/commands/serve.ts'), 'utf8');

const dataDir = mkdtempSync(join(tmpdir(), 'herald-config-docs-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

interface Row {
  variable: string;
  flags: string[];
  defaultCell: string;
  /** The section the table is under (`## Server`, …). */
  section: string;
}

/** The rows of the doc's tables whose first cell is a `HERALD_*` variable. */
function rows(): Row[] {
  const found: Row[] = [];
  let section = '';
  let header: string[] = [];
  for (const line of DOC.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (!line.startsWith('|')) {
      header = [];
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    if (header.length === 0) {
      header = cells;
      continue;
    }
    const variable = /^`(HERALD_[A-Z_]+)`$/.exec(cells[0]!)?.[1];
    if (!variable) continue;
    const flagCell = header.indexOf('Flag') >= 0 ? cells[header.indexOf('Flag')]! : '';
    found.push({
      variable,
      flags: [...flagCell.matchAll(/`(-[-a-z]+)`/g)].map((m) => m[1]!),
      defaultCell: cells[header.indexOf('Default')] ?? '',
      section,
    });
  }
  return found;
}

/** An environment that records every variable read from it. */
function recordingEnv(base: Record<string, string>): {
  env: Record<string, string | undefined>;
  read: Set<string>;
} {
  const read = new Set<string>();
  const env = new Proxy(base as Record<string, string | undefined>, {
    get(target, name) {
      if (typeof name !== 'string') return undefined;
      read.add(name);
      return target[name];
    },
  });
  return { env, read };
}

test('every HERALD_ variable the code reads has a row in docs/configuration.md, and every row one the code reads', () => {
  const server = recordingEnv({ HERALD_DATA_DIR: dataDir });
  loadConfig({ env: server.env, resolveAdminToken: false });
  const client = recordingEnv({});
  resolveConnection({}, client.env as NodeJS.ProcessEnv);

  const serverRead = [...server.read].filter((n) => n.startsWith('HERALD_')).sort();
  const clientRead = [...client.read].filter((n) => n.startsWith('HERALD_')).sort();
  const all = rows();
  const cliSection = 'The CLI and `herald listen`';
  const documentedServer = [
    ...new Set(all.filter((r) => r.section !== cliSection).map((r) => r.variable)),
  ].sort();
  const documentedClient = [
    ...new Set(all.filter((r) => r.section === cliSection).map((r) => r.variable)),
  ].sort();
  assert.ok(serverRead.length > 30, `expected the server's variables, read ${serverRead.join(', ')}`);
  assert.deepEqual(documentedServer, serverRead);
  assert.deepEqual(documentedClient, clientRead);
});

test("the Flag column holds exactly `herald serve`'s flags, each beside the variable it overrides", () => {
  const documented = rows()
    .filter((r) => r.section !== 'The CLI and `herald listen`')
    .flatMap((r) => r.flags.map((flag) => `${flag} ${r.variable}`))
    .sort();
  // `.option('-p, --port <port>', 'TCP port, … (env HERALD_PORT, default 8080)')`
  const options = [...SERVE.matchAll(/\.option\(\s*'([^']+)',\s*'([^']*)'/g)];
  assert.ok(options.length >= 8, 'found the options of serve.ts');
  const actual = options
    .flatMap(([, flags, description]) => {
      const variable = /env (HERALD_[A-Z_]+)/.exec(description!)?.[1];
      return [...flags!.matchAll(/(--?[a-z-]+)/g)].map((m) => `${m[1]} ${variable ?? '(no variable)'}`);
    })
    .sort();
  assert.deepEqual(documented, actual);
});

test('the plain defaults in docs/configuration.md are what loadConfig gives', () => {
  const config = loadConfig({ env: { HERALD_DATA_DIR: dataDir }, resolveAdminToken: false });
  const d = config.delivery;
  const actual: Record<string, (c: Config) => unknown> = {
    HERALD_PORT: (c) => c.port,
    HERALD_HOST: (c) => c.host,
    HERALD_ROLE: (c) => c.role,
    HERALD_LOG_LEVEL: (c) => c.logLevel,
    HERALD_MAX_BODY_BYTES: (c) => c.maxBodyBytes,
    HERALD_MAX_BODY_BYTES_IN_FLIGHT: (c) => c.maxBodyBytesInFlight,
    HERALD_HEADERS_TIMEOUT_MS: (c) => c.headersTimeoutMs,
    HERALD_REQUEST_TIMEOUT_MS: (c) => c.requestTimeoutMs,
    HERALD_SHUTDOWN_DELAY_MS: (c) => c.shutdownDelayMs,
    HERALD_SCHEMA_CHECK_WALL_MS: (c) => c.schemaCheckWallMs,
    HERALD_DELIVERY_TIMEOUT_MS: () => d.defaultTimeoutMs,
    HERALD_DELIVERY_MAX_TIMEOUT_MS: () => d.maxTimeoutMs,
    HERALD_RETRY_SCHEDULE: () => d.retrySchedule.join(','),
    HERALD_RETRY_JITTER: () => d.retryJitter,
    HERALD_FAILURE_THRESHOLD: () => d.failureThreshold,
    HERALD_DELIVERY_CONCURRENCY: () => d.concurrency,
    HERALD_PROJECT_CONCURRENCY: () => d.perProjectConcurrency,
    HERALD_ENDPOINT_CONCURRENCY: () => d.perEndpointConcurrency,
    HERALD_DELIVERY_BYTES_IN_FLIGHT: () => d.bytesInFlight,
    HERALD_CLAIM_BATCH: () => d.claimBatch,
    HERALD_LEASE_MS: () => d.leaseMs,
    HERALD_POLL_INTERVAL_MS: () => d.pollIntervalMs,
    HERALD_DELIVERY_THREAD: () => d.thread,
    // Per minute, as the doc says.
    HERALD_API_RATE_LIMIT: (c) =>
      c.apiRateLimit ? (c.apiRateLimit.max * 60_000) / c.apiRateLimit.windowMs : 0,
    HERALD_PROJECT_BACKLOG_LIMIT: (c) => c.projectBacklogLimit ?? 0,
    HERALD_MAX_DELIVERIES_PER_REQUEST: (c) => c.maxDeliveriesPerRequest,
    HERALD_RETENTION_DAYS: (c) => c.retentionDays,
    HERALD_RETENTION_START_DELAY_MS: (c) => c.retentionStartDelayMs,
    HERALD_ALLOW_NEWER_SCHEMA: (c) => c.allowNewerSchema,
  };
  const checked: string[] = [];
  for (const row of rows()) {
    const read = actual[row.variable];
    // The first code span of the cell: `8080`, `127.0.0.1`, `5000`, or the list of delays.
    const shown = /^`([^`]+)`/.exec(row.defaultCell)?.[1];
    if (!read || shown === undefined) continue;
    assert.equal(shown, String(read(config)), `${row.variable}: the doc's default`);
    checked.push(row.variable);
  }
  assert.deepEqual(checked.sort(), Object.keys(actual).sort(), 'every default above has a row to check');
});
