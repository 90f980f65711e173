/**
 * What every HeraldClient call stands on (client.ts): the connection to one Herald (its undici
 * Pool, from the options: open-transport.ts), the calls under way that close() waits for,
 * `request`, and the two calls that use the client's own settings (batch size, body limit,
 * idempotency keys): sendEvent and sendEvents. The other calls, one file per resource group, are
 * classes extending this one in turn.
 */
import { withIdempotencyKey } from './auto-idempotency-key.ts';
import { batchLimits, type CallOptions, type HeraldClientOptions } from './client-options.ts';
import { HeraldEventTooLargeError } from './errors.ts';
import { WITH_ID } from './expected-answers.ts';
import { openTransport } from './open-transport.ts';
import { seg } from './path-segment.ts';
import { sendEventBatches } from './send-event-batches.ts';
import { type Method, type RequestOptions, sendRequest, type Transport } from './transport.ts';
import type { EventInput, HeraldEvent, JsonInput } from './types.ts';

export class ClientBase {
  readonly #transport: Transport;
  readonly #batchSize: number;
  readonly #maxBodyBytes: number;
  readonly #autoIdempotencyKeys: boolean;
  /** Calls under way (with their waits between tries): close() lets them finish. */
  readonly #calls = new Set<Promise<unknown>>();

  constructor(options: HeraldClientOptions) {
    // Checked before the pool is opened, as url and token are (a TypeError naming the option).
    const limits = batchLimits(options);
    this.#transport = openTransport(options);
    this.#batchSize = limits.batchSize;
    this.#maxBodyBytes = limits.maxBodyBytes;
    this.#autoIdempotencyKeys = options.autoIdempotencyKeys ?? true;
  }

  /**
   * Closes the connections once the calls under way have finished: a call waiting to send its
   * request again (a 429's or 503's Retry-After) has none in the pool, which would close under it.
   */
  async close(): Promise<void> {
    await Promise.allSettled(this.#calls);
    await this.#transport.pool.close();
  }

  /** `call`, counted among the calls close() waits for until it settles. */
  #track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const settled = () => this.#calls.delete(call);
    call.then(settled, settled);
    return call;
  }

  /**
   * One API call: `path` below `/api/v1` (`/projects/p/events`), or a whole path starting with
   * `/api/`. `repeatable`: the request may be sent again after a network error (default: GET, PUT
   * and DELETE).
   */
  request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return this.#track(sendRequest<T>(this.#transport, method, path, options));
  }

  // ── events ─────────────────────────────────────────────────────────────
  /** Sends one event: stored and fanned out before Herald answers. */
  async sendEvent(
    project: string,
    input: EventInput<JsonInput>,
    call: CallOptions = {},
  ): Promise<HeraldEvent> {
    const event = this.#autoIdempotencyKeys ? withIdempotencyKey(input) : input;
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.#maxBodyBytes) throw new HeraldEventTooLargeError(0, bytes, this.#maxBodyBytes);
    return this.request('POST', `/projects/${seg(project)}/events`, {
      signal: call.signal,
      json,
      repeatable: Boolean(event.idempotencyKey),
      expect: WITH_ID,
    });
  }

  /**
   * Sends many events in batch requests of at most `batchSize` events and `maxBodyBytes` bytes, one
   * request at a time, in order; returns them in input order. A batch refused with 413
   * `HERALD_ERR_TOO_MANY_DELIVERIES` (its events would fan out to more deliveries than Herald takes
   * per request; nothing of it was stored) is sent again as smaller batches, sized from the answer's
   * `limit` and `deliveries`; a single event refused so throws. A batch refused with 413
   * `HERALD_ERR_BODY_TOO_LARGE` (Herald's body limit is below `maxBodyBytes`) is cut again, with the
   * batches after it, to the answer's `limitBytes`. Any other failing batch throws: the
   * batches before it are stored, none after it is sent, and the error (HeraldApiError,
   * HeraldNetworkError or HeraldResponseError) says how many events that is, `stored` (give events
   * idempotency keys to send them all again safely). An event larger than `maxBodyBytes` on its own throws
   * HeraldEventTooLargeError (naming its index) before any batch is sent.
   */
  async sendEvents(
    project: string,
    events: readonly EventInput<JsonInput>[],
    call: CallOptions = {},
  ): Promise<HeraldEvent[]> {
    // Tracked as a whole: close() waits for the batches still to send, not only the one being sent.
    return this.#track(
      sendEventBatches(
        this,
        `/projects/${seg(project)}/events/batch`,
        this.#autoIdempotencyKeys ? events.map(withIdempotencyKey) : events,
        this.#batchSize,
        this.#maxBodyBytes,
        call.signal,
      ),
    );
  }
}
