/**
 * Ingest events/s: Herald with `--role api` (no dispatcher, so delivery does not compete for the
 * CPU), one endpoint, so every event is stored with one delivery before its 202. Single-event
 * requests, then batches.
 */
import type { BenchContext } from '../lib/context.ts';
import { createDatabase, launchHerald, type StoreKind } from '../lib/herald-process.ts';
import { runFor } from '../lib/load.ts';
import type { IngestResult, IngestRow } from '../lib/results.ts';
import { percentiles } from '../lib/stats.ts';

/** Requests in flight: many small clients for single events, a few for batches. */
const SINGLE_PARALLEL = 32;
const BATCHES = [
  { size: 100, parallel: 4 },
  { size: 500, parallel: 2 },
];

export async function ingest(ctx: BenchContext): Promise<IngestResult[]> {
  const out: IngestResult[] = [];
  for (const store of ctx.options.stores) out.push(await ingestOn(ctx, store));
  return out;
}

async function ingestOn(ctx: BenchContext, store: StoreKind): Promise<IngestResult> {
  const ms = ctx.options.profile.ingestMs;
  ctx.log(`ingest: Herald on ${store}, role api`);
  const db = await createDatabase(store);
  const herald = await launchHerald(db, { role: 'api' });
  try {
    const projectId = await herald.api.createProject('ingest');
    // Never delivered (no dispatcher), but every event gets a delivery row, as in production.
    await herald.api.createEndpoint(projectId, `${ctx.receiver.url}/t/ingest/hook`);
    let seq = 0;
    const rows: IngestRow[] = [];
    const single = await runFor(ms, SINGLE_PARALLEL, async () => {
      await herald.api.sendOne(projectId, seq++);
      return 1;
    });
    rows.push(row('single', 1, SINGLE_PARALLEL, single));
    for (const { size, parallel } of BATCHES) {
      const batch = await runFor(ms, parallel, async () => {
        const first = seq;
        seq += size;
        await herald.api.sendBatch(projectId, first, size);
        return size;
      });
      rows.push(row(`batch of ${size}`, size, parallel, batch));
    }
    return { store, rows };
  } finally {
    await herald.stop();
    db.dispose();
  }
}

function row(
  request: string,
  eventsPerRequest: number,
  parallel: number,
  r: { perSec: number; requestMs: number[] },
): IngestRow {
  return { request, eventsPerRequest, parallel, eventsPerSec: r.perSec, requestMs: percentiles(r.requestMs) };
}
