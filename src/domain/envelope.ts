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

/**
 * `buildEnvelope` serialised, from the payload's JSON text as stored: the same bytes as
 * `JSON.stringify(buildEnvelope(envelope, event))` whenever `payloadJson` is the payload's
 * `JSON.stringify` (what the stores keep), without parsing the payload or serialising it again.
 */
export function envelopeJson(
  envelope: Envelope,
  event: Pick<HeraldEvent, 'id' | 'type' | 'createdAt'>,
  payloadJson: string,
): string {
  const time = new Date(event.createdAt).toISOString();
  switch (envelope) {
    case 'raw':
      return payloadJson;
    case 'event-data':
      return `{"event":${JSON.stringify(event.type)},"data":${payloadJson},"id":${JSON.stringify(event.id)},"time":"${time}"}`;
    default:
      return `{"type":${JSON.stringify(event.type)},"timestamp":"${time}","data":${payloadJson}}`;
  }
}
