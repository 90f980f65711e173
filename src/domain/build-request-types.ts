import type { Endpoint, EndpointSecret, Envelope, HeraldEvent, HttpMethod } from './types.ts';

export interface BuildRequestInput {
  event: HeraldEvent;
  /**
   * The payload's JSON text as stored, when the caller has it (claimed deliveries): JSON bodies are
   * then built from it and `event.payload` is read only for GET and form bodies.
   */
  payloadJson?: string;
  /** Target URL: the endpoint's, or the event's callbackUrl. */
  url: string;
  /** Settings that shape the request (for callbacks: standard envelope, POST, standard scheme). */
  endpoint: Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>;
  /** Secrets valid now, newest first. Schemes that can carry several signatures sign with each. */
  secrets: Pick<EndpointSecret, 'secret'>[];
  /** Signing time, epoch ms. */
  now: number;
}

/** The exact request to send: `body` is the exact bytes the signature covers. */
export interface BuiltRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  /**
   * Set when `body` is exactly `envelopeJson(bodyEnvelope, event, payloadJson)`: the event's
   * envelope around its stored payload text, which the attempt record can then refer to instead of
   * storing the body again (src/store/attempt-bodies.ts).
   */
  bodyEnvelope?: Envelope;
}
