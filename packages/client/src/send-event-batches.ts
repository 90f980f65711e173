/**
 * HeraldClient's `sendEvents`: events sent in batch requests (batch-bodies.ts), one at a time and
 * in order, a batch refused for fanning out to too many deliveries, or for a body over Herald's
 * limit (one set below `maxBodyBytes`), sent again as smaller ones.
 */
import { type BatchBody, batchBodies } from './batch-bodies.ts';
import type { HeraldClient } from './client.ts';
import {
  HeraldApiError,
  HeraldEventTooLargeError,
  HeraldNetworkError,
  HeraldResponseError,
} from './errors.ts';
import { LIST } from './expected-answers.ts';
import type { EventInput, HeraldEvent, JsonInput } from './types.ts';

/** `sendEvents` (client.ts) to `path`, `POST …/events/batch`, with the client's batch limits. */
export async function sendEventBatches(
  client: Pick<HeraldClient, 'request'>,
  path: string,
  events: readonly EventInput<JsonInput>[],
  batchSize: number,
  maxBodyBytes: number,
  /** The caller's: each batch's request is ended by it, and a batch not yet sent is not sent. */
  signal?: AbortSignal,
): Promise<HeraldEvent[]> {
  const out: HeraldEvent[] = [];
  // Batches still to send, the next one last.
  let pending = batchBodies(events, batchSize, maxBodyBytes).reverse();
  let bodyLimit = maxBodyBytes;
  for (let batch = pending.pop(); batch; batch = pending.pop()) {
    const inBatch = events.slice(batch.first, batch.first + batch.count);
    let page: { data: HeraldEvent[] };
    try {
      page = await client.request('POST', path, {
        json: batch.json,
        repeatable: inBatch.every((e) => e.idempotencyKey),
        expect: LIST,
        signal,
      });
    } catch (error) {
      // Herald's HERALD_MAX_BODY_BYTES is below maxBodyBytes: nothing of the batch was stored, and
      // the answer says the limit. This batch and the ones after it are cut again to fit it.
      const limit = lowerBodyLimit(error, batch.count, bodyLimit);
      if (limit !== null) {
        bodyLimit = limit;
        pending = fittingBodies(events.slice(batch.first), batchSize, limit)
          .map((part) => ({ ...part, first: batch!.first + part.first }))
          .reverse();
        continue;
      }
      const size = smallerBatch(error, batch.count);
      if (size === null) throw inBatchAt(error, batch.first, batch.count);
      const parts = batchBodies(inBatch, size, bodyLimit);
      for (const part of parts.reverse()) pending.push({ ...part, first: batch.first + part.first });
      continue;
    }
    out.push(...page.data);
  }
  return out;
}

/**
 * `error`, for a batch of `count` events that started at the caller's event `first`: a refusal
 * says how many events were stored before it and, when it names an event of the batch (or a 413
 * refused a batch of one), which of the caller's it is.
 */
function inBatchAt(error: unknown, first: number, count: number): unknown {
  // No answer (the retries ran out, a timeout, an abort), or one not Herald's (a proxy's page, a
  // wrong base path): the batches before it are stored all the same, and a caller sending the rest
  // again needs to know where they end.
  if (error instanceof HeraldNetworkError || error instanceof HeraldResponseError) error.stored = first;
  if (!(error instanceof HeraldApiError)) return error;
  error.stored = first;
  const field = (error.details as { field?: unknown } | undefined)?.field;
  const named = typeof field === 'string' ? /^body\.events\.(\d+)(\.|$)/.exec(field) : null;
  if (named) error.eventIndex = first + Number(named[1]);
  else if (error.status === 413 && count === 1) error.eventIndex = first;
  return error;
}

/**
 * The body limit to cut batches to after `error`: for a 413 HERALD_ERR_BODY_TOO_LARGE whose
 * `details.limitBytes` is below the `current` one, of a batch of more than one event, that limit;
 * else null (the error stands: one event over Herald's limit is refused).
 */
function lowerBodyLimit(error: unknown, count: number, current: number): number | null {
  if (!(error instanceof HeraldApiError) || error.code !== 'HERALD_ERR_BODY_TOO_LARGE' || count <= 1)
    return null;
  const limit = (error.details as { limitBytes?: unknown } | undefined)?.limitBytes;
  return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 && limit < current ? limit : null;
}

/**
 * batchBodies within `maxBytes`, but an event too large for it goes alone in its own batch instead
 * of throwing: sent, Herald refuses it (413) and sendEvents stops there, the batches before it stored.
 */
function fittingBodies(
  events: readonly EventInput<JsonInput>[],
  batchSize: number,
  maxBytes: number,
): BatchBody[] {
  const out: BatchBody[] = [];
  let first = 0;
  while (first < events.length) {
    const rest = events.slice(first);
    try {
      out.push(...batchBodies(rest, batchSize, maxBytes).map((b) => ({ ...b, first: first + b.first })));
      break;
    } catch (error) {
      if (!(error instanceof HeraldEventTooLargeError)) throw error;
      const before = batchBodies(rest.slice(0, error.index), batchSize, maxBytes);
      out.push(...before.map((b) => ({ ...b, first: first + b.first })));
      const [alone] = batchBodies([rest[error.index]], 1, Number.POSITIVE_INFINITY);
      out.push({ ...alone!, first: first + error.index });
      first += error.index + 1;
    }
  }
  return out;
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
