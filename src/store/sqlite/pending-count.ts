/**
 * A project's pending deliveries, counted for intake backpressure (src/api/backlog-gate.ts) on the
 * thread that also accepts: endpoint by endpoint on `deliveries_endpoint` (project, endpoint,
 * 'pending' is one range of it; the project alone would walk its whole history), then its
 * callbacks, at most `atMost` in all, `pendingStep.rows` index entries per statement with the
 * thread given back between them. A deleted endpoint's deliveries are never pending
 * (endpoint-writes.ts), so the endpoints table names every range there is to count.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { all, get } from './db-helpers.ts';

/** Index entries one statement walks (~1-2 ms here), the thread given back after each. An object, so a test can make steps small. */
export const pendingStep = { rows: 20_000 };
/** Endpoints counted between two yields when each has less than a step (a project with 10,000). */
const RANGES_PER_YIELD = 256;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `endpoint_id IS ?` matches a null (callbacks) too, and SQLite uses the index for it as for `=`. */
const RANGE = `FROM deliveries INDEXED BY deliveries_endpoint
  WHERE project_id = ? AND endpoint_id IS ? AND status = 'pending'`;
/** The step's last entry, the step-th after (t, r) in index order: a whole step is there. */
const STEP_END = `SELECT next_attempt_at AS t, rowid AS r ${RANGE} AND (next_attempt_at, rowid) > (?, ?)
  ORDER BY next_attempt_at, rowid LIMIT 1 OFFSET ?`;
/** What is left after (t, r): less than a step. */
const REST = `SELECT count(*) AS n ${RANGE} AND (next_attempt_at, rowid) > (?, ?)`;

export async function countPendingSqlite(
  db: DatabaseSync,
  projectId: string,
  atMost: number,
): Promise<number> {
  const ranges: (string | null)[] = all(
    db,
    'SELECT id FROM endpoints WHERE project_id = ? ORDER BY project_id, id',
    projectId,
  ).map((r) => String(r.id));
  ranges.push(null);
  let counted = 0;
  for (const [i, endpointId] of ranges.entries()) {
    if (i > 0 && i % RANGES_PER_YIELD === 0) await yieldToEventLoop();
    // Pending rows always have a due time (or a lease's end) in next_attempt_at.
    let after: SQLInputValue[] = [-Infinity, -1];
    for (;;) {
      if (counted >= atMost) return atMost;
      const step = Math.min(pendingStep.rows, atMost - counted);
      const end = get(db, STEP_END, projectId, endpointId, ...after, step - 1);
      if (!end) {
        counted += Number(get(db, REST, projectId, endpointId, ...after)?.n ?? 0);
        break;
      }
      counted += step;
      after = [end.t as SQLInputValue, end.r as SQLInputValue];
      await yieldToEventLoop();
    }
  }
  return Math.min(counted, atMost);
}
