/**
 * A chart whose client left is not read on. An endpoint's chart reads every attempt of its range,
 * seconds of the API thread's time for a busy endpoint (SQLite, 3,000,000 attempts in 30 days: 5.6 s
 * for 30 days by day); a client that gave up (a dashboard switched to another period, a script that
 * timed out and asked again) left that work running to its end: six 30-day charts abandoned after
 * 200 ms kept the process busy 17 s more, and a 24-hour chart asked meanwhile took 894 ms instead of
 * 134. Real server on listen(0), SQLite on disk; the stats' statements counted as they run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { ID_PREFIX, newId } from '../../src/domain/ids.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput } from '../store/helpers.ts';

const ADMIN = 'stats-abandoned-admin-token-0123456789ab';
const ATTEMPTS = 200_000;
const DAY = 86_400_000;

/** Counts the statements of the stats (they name attempts_endpoint) as they are run, in this process. */
function countStatsSteps(): { count: () => number; restore: () => void } {
  const proto = StatementSync.prototype as unknown as Record<'all' | 'get', (...args: unknown[]) => unknown>;
  const originals = { all: proto.all, get: proto.get };
  let n = 0;
  for (const name of ['all', 'get'] as const) {
    proto[name] = function (this: StatementSync, ...args: unknown[]) {
      if (this.sourceSQL.includes('INDEXED BY attempts_endpoint')) n++;
      return originals[name].apply(this, args);
    };
  }
  return {
    count: () => n,
    restore: () => Object.assign(proto, originals),
  };
}

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

test('a 30-day chart stops being read once its client has gone (SQLite)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-stats-abandoned-'));
  const file = join(dir, 'herald.db');
  const store = await openStore(`sqlite:${file}`);
  await store.migrate();
  const app = buildApp({ store, config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }) });
  const steps = countStatsSteps();
  try {
    const now = Date.now();
    const since = now - 30 * DAY;
    const project = await store.createProject({ name: 'charts' }, now);
    const endpoint = await store.createEndpoint(
      endpointInput(project.id),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now,
    );
    const db = new DatabaseSync(file);
    const insert = db.prepare(
      `INSERT INTO attempts (id, project_id, delivery_id, event_id, endpoint_id, event_type, number, started_at,
         duration_ms, outcome, request) VALUES (?, ?, 'dlv_x', 'evt_x', ?, 'a.b', 1, ?, ?, 'succeeded', '{}')`,
    );
    db.exec('BEGIN');
    for (let i = 0; i < ATTEMPTS; i++) {
      const t = since + Math.floor((i * 30 * DAY) / ATTEMPTS);
      insert.run(newId(ID_PREFIX.attempt, t), project.id, endpoint.id, t, i % 300);
    }
    db.exec('COMMIT');
    db.close();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}/api/v1/projects/${project.id}/endpoints/${endpoint.id}/stats?since=${since}&until=${now}&bucket=1h`;
    const headers = { authorization: `Bearer ${ADMIN}` };

    // Read whole: how many steps the chart takes.
    const whole = await fetch(url, { headers });
    const buckets = (await whole.json()) as { data: { succeeded: number }[] };
    assert.equal(
      buckets.data.reduce((sum, b) => sum + b.succeeded, 0),
      ATTEMPTS,
    );
    const wholeSteps = steps.count();
    assert.ok(wholeSteps >= 100, `the chart is read in ${wholeSteps} steps`);

    // Asked again, and left after its first steps.
    const before = steps.count();
    const left = new AbortController();
    const asked = fetch(url, { headers, signal: left.signal }).catch((error: unknown) => error);
    await until('the first steps', () => steps.count() - before >= 4);
    left.abort();
    assert.ok((await asked) instanceof Error);
    // Quiet for 300 ms: the reading ended (or never stops, and the wait times out).
    let last = -1;
    let quietSince = Date.now();
    await until('the reading to end', () => {
      if (steps.count() !== last) {
        last = steps.count();
        quietSince = Date.now();
      }
      return Date.now() - quietSince >= 300;
    });
    const abandonedSteps = steps.count() - before;
    assert.ok(
      abandonedSteps < wholeSteps / 4,
      `the abandoned chart ran ${abandonedSteps} of the ${wholeSteps} steps of a whole one`,
    );
  } finally {
    steps.restore();
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
