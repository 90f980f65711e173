/**
 * HeraldClient's `sendEvents`: events sent in batch requests (batch-bodies.ts), one at a time and
 * in order, a batch refused for fanning out to too many deliveries sent again as smaller ones.
 */
import { batchBodies } from './batch-bodies.ts';
import type { HeraldClient } from './client.ts';
import { HeraldApiError } from './errors.ts';
import { LIST } from './expected-answers.ts';
import type { EventInput, HeraldEvent, JsonInput } from './types.ts';

/** `sendEvents` (client.ts) to `path`, `POST …/events/batch`, with the client's batch limits. */
export async function sendEventBatches(
  client: Pick<HeraldClient, 'request'>,
  path: string,
  events: readonly EventInput<JsonInput>[],
  batchSize: number,
  maxBodyBytes: number,
): Promise<HeraldEvent[]> {
  const out: HeraldEvent[] = [];
  // Batches still to send, the next one last.
  const pending = batchBodies(events, batchSize, maxBodyBytes).reverse();
  for (let batch = pending.pop(); batch; batch = pending.pop()) {
    const inBatch = events.slice(batch.first, batch.first + batch.count);
    let page: { data: HeraldEvent[] };
    try {
      page = await client.request('POST', path, {
        json: batch.json,
        repeatable: inBatch.every((e) => e.idempotencyKey),
        expect: LIST,
      });
    } catch (error) {
      const size = smallerBatch(error, batch.count);
      if (size === null) throw inBatchAt(error, batch.first);
      const parts = batchBodies(inBatch, size, maxBodyBytes);
      for (const part of parts.reverse()) pending.push({ ...part, first: batch.first + part.first });
      continue;
    }
    out.push(...page.data);
  }
  return out;
}

/**
 * `error`, for a batch that started at the caller's event `first`: a refusal says how many events
 * were stored before it and, when it names an event of the batch, which of the caller's it is.
 */
function inBatchAt(error: unknown, first: number): unknown {
  if (!(error instanceof HeraldApiError)) return error;
  error.stored = first;
  const field = (error.details as { field?: unknown } | undefined)?.field;
  const named = typeof field === 'string' ? /^body\.events\.(\d+)(\.|$)/.exec(field) : null;
  if (named) error.eventIndex = first + Number(named[1]);
  return error;
}

/**
 * Events per batch to send a batch of `count` again as, after `error`: for a 413
 * HERALD_ERR_TOO_MANY_DELIVERIES of a batch of more than one event, the share of its events that
 * its `details` say fit (`limit` of `deliveries`), at most half of them and at least one; else null
 * (the error stands). Events fan out unevenly, so a smaller batch may be refused again and split
 * again.
 */
function smallerBatch(error: unknown, count: number): number | null {
  if (!(error instanceof HeraldApiError) || error.status !== 413) return null;
  if (error.code !== 'HERALD_ERR_TOO_MANY_DELIVERIES' || count <= 1) return null;
  const { limit, deliveries } = (error.details ?? {}) as { limit?: unknown; deliveries?: unknown };
  const half = Math.ceil(count / 2);
  if (typeof limit !== 'number' || typeof deliveries !== 'number' || deliveries <= 0) return half;
  return Math.max(1, Math.min(half, Math.floor((count * limit) / deliveries)));
}
