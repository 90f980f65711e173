/**
 * The one payload every system sends: about 1 KiB of JSON carrying a sequence number and the
 * moment the load generator handed it over (`sentAt`, epoch ms), so the receiver can time arrivals.
 * Bodies are built by string concatenation: the load generator must not be the bottleneck.
 */
import { createHmac } from 'node:crypto';

export const EVENT_TYPE = 'bench.event';
/** Size of the JSON payload (the `data` of the envelope). */
export const PAYLOAD_BYTES = 1024;

const SKELETON = (seq: number, sentAt: number) => `{"seq":${seq},"sentAt":${sentAt.toFixed(3)},"pad":"`;
// seq up to 10 digits and sentAt with 13+1+3: pad so that a typical payload is PAYLOAD_BYTES long.
const PAD = 'x'.repeat(PAYLOAD_BYTES - SKELETON(1_000_000, 1_700_000_000_000.123).length - 2);

/** The payload as JSON text. */
export function payloadJson(seq: number, sentAt: number): string {
  return `${SKELETON(seq, sentAt)}${PAD}"}`;
}

/** One event as the Herald API takes it: `{"type", "payload"}`. */
export function heraldEventJson(seq: number, sentAt: number): string {
  return `{"type":"${EVENT_TYPE}","payload":${payloadJson(seq, sentAt)}}`;
}

/** A body for POST …/events/batch with `count` events numbered from `firstSeq`. */
export function heraldBatchBody(firstSeq: number, count: number, sentAt: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(heraldEventJson(firstSeq + i, sentAt));
  return `{"events":[${parts.join(',')}]}`;
}

/** What Herald's default (`standard`) envelope looks like; the baselines send the same bytes. */
export function envelopeJson(payload: string, timestampIso: string): string {
  return `{"type":"${EVENT_TYPE}","timestamp":"${timestampIso}","data":${payload}}`;
}

/** Standard Webhooks signature header value for one secret (`whsec_…`): `v1,<base64 HMAC-SHA256>`. */
export function standardSignature(secret: string, id: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}
