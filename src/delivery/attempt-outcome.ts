/** Turns one finished HTTP try into the AttemptRecord the store writes. Pure. */

import type { BuiltRequest } from '../domain/build-request-types.ts';
import { classifyResult } from '../domain/classify-outcome.ts';
import { ID_PREFIX, newId } from '../domain/ids.ts';
import { nextAttemptDelayMs, parseRetryAfter } from '../domain/retry-schedule.ts';
import type { Delivery, HeraldEvent } from '../domain/types.ts';
import type { AttemptRecord, EndpointEffect } from '../store/store.ts';
import type { SendResult } from './send-types.ts';

export interface OutcomeInput {
  delivery: Delivery;
  event: HeraldEvent;
  request: BuiltRequest;
  result: SendResult;
  schedule: readonly number[];
  jitter: number;
  random: () => number;
  /** Callbacks say nothing about an endpoint's health. */
  countsForEndpoint: boolean;
  workerId: string;
  now: number;
}

export function attemptRecord(input: OutcomeInput): AttemptRecord {
  const { delivery, event, result } = input;
  const status = result.response?.status ?? null;
  // The one classification (classify-outcome.ts), which the sender's tests check on real answers.
  const c = classifyResult(result);
  let next: AttemptRecord['next'];
  if (c.outcome === 'succeeded') next = { status: 'succeeded', nextAttemptAt: null };
  else if (!c.retryable) next = { status: 'failed', nextAttemptAt: null };
  else {
    const retryAfterMs =
      status === 429 || status === 503
        ? parseRetryAfter(result.response?.headers['retry-after'], input.now)
        : null;
    const delay = nextAttemptDelayMs({
      attemptNumber: delivery.attempts + 1,
      schedule: input.schedule,
      jitter: input.jitter,
      random: input.random,
      retryAfterMs,
    });
    next =
      delay === null
        ? { status: 'failed', nextAttemptAt: null }
        : { status: 'pending', nextAttemptAt: input.now + delay };
  }
  // Herald's own failure (result.local, or a request it refused to send: result.unsent) says
  // nothing of the endpoint: it must not disable it. Nor
  // does a 429: the receiver is up and asks to be sent less (its own rate limit). The delivery waits
  // its schedule (or Retry-After) and fails when the schedule is used up, but the endpoint is not
  // disabled for it: counted as failures, 40 events to a receiver taking 10/s disabled it in ~3 s.
  const says = input.countsForEndpoint && !result.local && !result.unsent && status !== 429;
  const effect: EndpointEffect = says ? c.effect : 'none';
  return {
    attempt: {
      id: newId(ID_PREFIX.attempt, result.startedAt),
      projectId: delivery.projectId,
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      endpointId: delivery.endpointId,
      eventType: event.type,
      number: delivery.attempts + 1,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      outcome: c.outcome,
      request: {
        method: input.request.method,
        url: input.request.url,
        // As sent (host, connection, content-length included) when the sender got that far.
        headers: result.requestHeaders ?? input.request.headers,
        body: input.request.body ?? '',
      },
      response: result.response,
      error: c.error,
    },
    ...(input.request.bodyEnvelope ? { requestBodyEnvelope: input.request.bodyEnvelope } : {}),
    next,
    endpointEffect: effect,
    workerId: input.workerId,
  };
}

/**
 * The record of a delivery whose endpoint was deleted after its event was accepted: nothing to
 * send it to, so no HTTP attempt (not counted in the metrics), and the delivery is closed as failed.
 */
export function endpointDeletedRecord(
  delivery: Delivery,
  event: HeraldEvent,
  workerId: string,
  now: number,
): AttemptRecord {
  return attemptRecord({
    delivery,
    event,
    request: { method: 'POST', url: delivery.url, headers: {}, body: null },
    result: {
      startedAt: now,
      durationMs: 0,
      response: null,
      error: { kind: 'internal', message: 'endpoint deleted' },
    },
    schedule: [],
    jitter: 0,
    random: Math.random,
    countsForEndpoint: false,
    workerId,
    now,
  });
}
