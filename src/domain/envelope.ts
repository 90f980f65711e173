/**
 * The envelope an endpoint receives around an event's payload (DESIGN.md "Envelopes and methods").
 * Times are the event's creation time, so every retry carries the same content.
 */
import type { Envelope, HeraldEvent, Json } from './types.ts';

/** The content sent for `event` under `envelope`. */
export function buildEnvelope(
  envelope: Envelope,
  event: Pick<HeraldEvent, 'id' | 'type' | 'payload' | 'createdAt'>,
): Json {
  switch (envelope) {
    case 'raw':
      return event.payload;
    case 'event-data':
      return {
        event: event.type,
        data: event.payload,
        id: event.id,
        time: new Date(event.createdAt).toISOString(),
      };
    default:
      return { type: event.type, timestamp: new Date(event.createdAt).toISOString(), data: event.payload };
  }
}
