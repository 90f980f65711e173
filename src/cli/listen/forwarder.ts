/**
 * Local forwarding for development (`herald listen`): polls a project's events through the API and
 * sends each new one to a local URL, signed as Herald would sign it, so a receiver on a laptop can
 * be built against a Herald it cannot be reached from. Outbound requests only: nothing needs to
 * reach the laptop.
 *
 * New events are found by their creation time: each poll lists the events created since the newest
 * one seen, minus LOOK_BACK_MS (an event committed late, by another process, still shows up), and
 * skips ids already forwarded. Once LOOK_BACK_MS has passed since the newest one was found, polls
 * list only newer events: a quiet project's last events (large ones too) are not read again at
 * every poll. Forwarding is best effort and in order, one request at a time: a
 * development aid, not a delivery (Herald's own delivery to the registered endpoints goes on as
 * usual).
 */

import { rootCertificates } from 'node:tls';
import { type EventSummary, HeraldApiError, type HeraldClient } from '@herald/client';
import { Agent, request } from 'undici';
import { guardedLookup, systemLookup } from '../../delivery/guarded-lookup.ts';
import { parseCidrList } from '../../domain/address-classifier.ts';
import { type ForwardShape, forwardRequest, forwards, forwardsDelivered } from './forward-shape.ts';

/** How far back each poll looks before the newest event seen. */
export const LOOK_BACK_MS = 5_000;
/**
 * Events per page, and pages per poll at most: a poll reads at most 2,000 events of its window
 * (newest first), fewer when they are large (Herald cuts a page at 4 MiB of payloads). More in one
 * window (over ~300 events/s) and the oldest are skipped, which the poll says.
 */
const PAGE = 100;
const MAX_PAGES = 20;
/** Refusals a poll ends on (the project deleted, the token revoked or not allowed): not retried. */
const PERMANENT_REFUSALS = new Set([401, 403, 404]);

/**
 * The forwards' connections. `localhost` and `*.localhost` are answered with the loopback addresses
 * here, as the delivery guard answers them (RFC 6761), and never asked of the system resolver: with
 * `hosts: files dns` it sends `app.localhost` to a DNS server, whose answer would then receive
 * copies signed with the endpoint's secret although --forward-to passed as this machine. Every
 * address is allowed: any other name got past that check only with --allow-remote.
 */
const forwardLookup = guardedLookup(systemLookup, parseCidrList('0.0.0.0/0,::/0'));
const forwardDispatcher = new Agent({ connect: { lookup: forwardLookup } });

/**
 * The forwards' connections when --forward-ca-file is given: its certificates are trusted as well
 * as the system's CAs (a local receiver's self-signed certificate, or the CA that signed it). The
 * certificate is still checked against the --forward-to host, and nothing else is relaxed.
 */
function trustingDispatcher(ca: string): Agent {
  return new Agent({ connect: { lookup: forwardLookup, ca: [...rootCertificates, ca] } });
}

/** How much of a refusal's body is printed, in characters (on one line, its whitespace runs as one space). */
const ANSWER_CHARS = 200;

/** How much of a 2xx answer's body is read before its connection is closed (undici's dump() limit). */
const DRAIN_BYTES = 128 * 1024;

/**
 * Reads an answer's body: a refusal's first bytes, its start for the forward's line (the rest left
 * unread, the connection closed: read whole, a receiver streaming an error page without end was
 * reported as no answer within --timeout, not its status), a 2xx's up to DRAIN_BYTES (then closed,
 * as dump() closes one). `cut` holds the error that ended the body before its end (the connection
 * closed mid-body, the deadline): Herald counts such an answer as a failed attempt and sends it
 * again. dump() ended quietly on it, and a 2xx cut short was printed as delivered.
 */
async function readAnswer(
  body: AsyncIterable<Uint8Array>,
  refused: boolean,
): Promise<{ start: string; cut: { error: unknown } | null }> {
  const kept: Uint8Array[] = [];
  let size = 0;
  let cut: { error: unknown } | null = null;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (!refused) {
        if (size > DRAIN_BYTES) break;
        continue;
      }
      kept.push(chunk);
      if (size > ANSWER_CHARS * 4) break;
    }
  } catch (error) {
    cut = { error };
  }
  const text = Buffer.concat(kept).toString('utf8').replace(/\s+/g, ' ').trim();
  return { start: text.length > ANSWER_CHARS ? `${text.slice(0, ANSWER_CHARS)}…` : text, cut };
}

/**
 * Why a forward failed, in the socket's words. A name with several addresses (`localhost`: ::1 and
 * 127.0.0.1) is dialled at each, and when every one fails Node reports an AggregateError whose own
 * message is empty: its errors say it (`connect ECONNREFUSED ::1:3000`), each once.
 */
function failure(error: unknown): string {
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const reasons = [...new Set(errors.map(failure))].filter(Boolean);
    if (reasons.length > 0) return reasons.join('; ');
  }
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return error.message || (typeof code === 'string' ? code : error.name);
}

export interface ForwarderOptions {
  client: HeraldClient;
  project: string;
  forwardTo: string;
  shape: ForwardShape;
  intervalMs: number;
  /** How long a forward may take, its answer included (--timeout, or its default). */
  timeoutMs: number;
  /**
   * --timeout was not given and there is an endpoint: each forward gets the endpoint's timeoutMs
   * (`shape.timeoutMs`, read again with the shape) instead, as Herald gives each attempt, so a
   * receiver too slow for Herald fails here too rather than being printed as delivered.
   */
  endpointTimeout?: boolean;
  /** PEM certificates to trust for an https forwardTo, besides the system's CAs (--forward-ca-file). */
  ca?: string;
  log: (line: string) => void;
  /** How a failed poll's error is printed (default: its message). */
  describeError?: (error: unknown) => string;
  /**
   * Reads the shape again (the endpoint's settings and valid secrets may have changed: a rotation,
   * a new filter). Called by each poll that found new events, before deciding and signing them.
   */
  refresh?: () => Promise<ForwardShape>;
}

export interface Forwarder {
  /** Marks what exists now as seen: only events created from here on are forwarded. */
  start(): Promise<void>;
  /** One poll: forwards what is new; returns how many were sent. */
  poll(): Promise<number>;
  /** Polls every intervalMs until stop(). */
  run(): Promise<void>;
  stop(): void;
  /** What it is waiting for now (a forward, a call to Herald), or null between polls. */
  activity(): string | null;
  /**
   * True while a forward is under way: stop() lets it finish. A call to Herald is not worth
   * waiting for after stop(): nothing it finds is forwarded.
   */
  forwarding(): boolean;
}

export function createForwarder(o: ForwarderOptions): Forwarder {
  /** Ids seen, with their creation time (ms), pruned as the window moves on. */
  const seen = new Map<string, number>();
  let newest = 0;
  /** When `newest` last moved on, on this machine's clock (performance.now()). */
  let newestFoundAt = performance.now();
  /**
   * A poll failed with new events it found left (a lookup or a read of the shape failed): the next
   * polls read the look-back window, however long ago `newest` moved, until one gets through them.
   * Those left may be of newest's millisecond, or older (committed late): asking only for newer
   * ones after an outage of over LOOK_BACK_MS skipped them for good.
   */
  let unfinished = false;
  let running = false;
  /** Set by stop(): the poll under way ends after its current forward, not after all it found. */
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let shape = o.shape;
  let activity: string | null = null;
  let forwarding = false;
  /** While polls fail: since when, and the first failure's words (said once, when it is back). */
  let outage: { since: number; reason: string } | null = null;
  const dispatcher = o.ca === undefined ? forwardDispatcher : trustingDispatcher(o.ca);

  /**
   * Said once when Herald answers again after polls failed: before the events that poll found are
   * forwarded, and counting the outage alone (until 2026-12-08 it came after their forwards, which
   * it counted: `works again after 7 s` for ~1 s down and three forwards of 2 s). Not after stop():
   * there is no next try to announce.
   */
  const back = () => {
    if (!outage || stopped) return;
    const seconds = Math.round((Date.now() - outage.since) / 1000);
    o.log(`polling ${o.project} works again after ${seconds} s (it failed with: ${outage.reason})`);
    outage = null;
  };

  /** The window's newest events, newest first; `cut` when it holds more than MAX_PAGES pages. */
  const fetchWindow = async (): Promise<{ events: EventSummary[]; cut: boolean }> => {
    const events: EventSummary[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await o.client.listEvents(o.project, {
        limit: PAGE,
        // Events committed late have had LOOK_BACK_MS to show up since the newest was found: after
        // that, only newer ones (30 events of 900 KB were otherwise read again, 27 MB, at every
        // poll while nothing new came).
        since:
          !unfinished && performance.now() - newestFoundAt > LOOK_BACK_MS
            ? newest + 1
            : Math.max(0, newest - LOOK_BACK_MS),
        ...(cursor ? { cursor } : {}),
      });
      events.push(...page.data);
      if (!page.nextCursor) return { events, cut: false };
      cursor = page.nextCursor;
    }
    return { events, cut: true };
  };

  const remember = (event: EventSummary) => {
    const at = Date.parse(event.createdAt);
    seen.set(event.id, at);
    if (at > newest) {
      newest = at;
      newestFoundAt = performance.now();
    }
  };

  /**
   * Whether the shape's endpoint gets `event`. A test event as an endpoint: the deliveries Herald
   * made say (a test send reaches its endpoint whatever its dev flag and filter); they are stored
   * with the event, so they are there when the event is listed.
   */
  const wouldGet = async (event: EventSummary): Promise<boolean> => {
    if (!event.test || shape.endpointId === null) return forwards(shape, event);
    try {
      return forwardsDelivered(shape, await o.client.getEvent(o.project, event.id));
    } catch (error) {
      // Deleted since it was listed (retention): nothing to forward, and not a reason to stop.
      if (error instanceof HeraldApiError && error.status === 404) return false;
      throw error;
    }
  };

  /** The time limit of the next forward, and what set it (said when it runs out). */
  const limit = (): { ms: number; from: string } =>
    o.endpointTimeout && shape.timeoutMs !== null
      ? { ms: shape.timeoutMs, from: "the endpoint's timeoutMs; --timeout to change it" }
      : { ms: o.timeoutMs, from: '--timeout' };

  const forward = async (event: EventSummary) => {
    const built = forwardRequest(shape, event, o.forwardTo, Date.now());
    // Every line of a test event says it is one: its failures too.
    const head = `${event.id} ${event.type}${event.test ? ' (test)' : ''} →`;
    const started = performance.now();
    const polling = activity;
    const { ms: timeoutMs, from } = limit();
    activity = `the forward of ${event.id} to ${o.forwardTo} (up to ${timeoutMs} ms, ${from})`;
    forwarding = true;
    // One deadline for the whole forward, its answer's body included: undici's headersTimeout and
    // bodyTimeout bound each wait, so a receiver sending its body a chunk at a time held it (and
    // a Ctrl-C waiting for it) for as long as it kept sending.
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(built.url, {
        dispatcher,
        method: built.method,
        headers: built.headers,
        body: built.body ?? undefined,
        signal: deadline,
      });
      // A refusal is printed with the start of its body: why the receiver refused the copy (a
      // verification error names its code there), which the status alone did not say.
      const refused = res.statusCode < 200 || res.statusCode >= 300;
      const { start, cut } = await readAnswer(res.body, refused);
      // The deadline cut the body short: that answer did not complete in time.
      deadline.throwIfAborted();
      const ms = Math.round(performance.now() - started);
      // A 2xx whose body was cut short is no delivery for Herald (it sends it again): nor here.
      if (cut && !refused) {
        o.log(
          `${head} failed: ${res.statusCode} answered, its body cut short: ${failure(cut.error)} (${ms} ms)`,
        );
        return;
      }
      const answer = [start, cut ? `(its body cut short: ${failure(cut.error)})` : '']
        .filter(Boolean)
        .join(' ');
      o.log(`${head} ${res.statusCode} (${ms} ms)${answer ? `: ${answer}` : ''}`);
    } catch (error) {
      const why = deadline.aborted ? `no complete answer within ${timeoutMs} ms (${from})` : failure(error);
      o.log(`${head} failed: ${why}`);
    } finally {
      activity = polling;
      forwarding = false;
    }
  };

  const forwarder: Forwarder = {
    async start() {
      // The newest event, then everything in the look-back window before it: all already there.
      const first = await o.client.listEvents(o.project, { limit: 1 });
      // Events left unread here are older still: as old as the start, not forwarded either way.
      if (first.data[0]) {
        remember(first.data[0]);
        for (const event of (await fetchWindow()).events) remember(event);
      }
    },
    async poll() {
      const window = await fetchWindow();
      // Unread events are older than the oldest one read. When that one was seen, the poll that saw
      // it read them too (or said it could not): only a burst new since then is cut short. A window
      // that stays full of events already seen (a burst before the start) is not said every poll.
      const oldest = window.events.at(-1);
      if (window.cut && oldest && !seen.has(oldest.id)) {
        // The number read: Herald cuts a page at 4 MiB of payloads, so MAX_PAGES pages of large
        // events hold far fewer than PAGE each (~100 of 1 MiB in all), and "more than 2000" was false.
        const read = window.events.length;
        const why =
          read < PAGE * MAX_PAGES ? ` (${MAX_PAGES} pages, fewer events a page when they are large)` : '';
        o.log(
          `more than ${read} events in ${LOOK_BACK_MS / 1000} s${why}: the oldest of them are not forwarded`,
        );
      }
      const fresh = window.events.filter((e) => !seen.has(e.id));
      let sent = 0;
      // Left for the next poll by a failure below: it reads the window they are in (`unfinished`).
      if (fresh.length > 0) unfinished = true;
      // New events to decide and sign: with the endpoint's settings and secrets as they are now (a
      // rotation since the start would otherwise sign with a retired secret). Failing, it leaves
      // them all for the next poll.
      if (fresh.length > 0 && o.refresh) shape = await o.refresh();
      back();
      // Oldest first: the order they were accepted in.
      fresh.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : 1));
      for (const event of fresh) {
        if (stopped) break;
        // Remembered once it is known whether it is wanted: a lookup that fails (a 503, the
        // network) leaves it for the next poll instead of dropping it.
        const wanted = await wouldGet(event);
        remember(event);
        if (!wanted) continue;
        await forward(event);
        sent++;
      }
      unfinished = false;
      for (const [id, at] of seen) if (at < newest - 2 * LOOK_BACK_MS) seen.delete(id);
      return sent;
    },
    async run() {
      running = true;
      while (running) {
        try {
          activity = `an answer from Herald (polling ${o.project})`;
          await forwarder.poll();
          back();
        } catch (error) {
          // The project is gone or the token no longer lets us read it: polling again will not
          // change that, so listen ends with the API's refusal instead of repeating it forever.
          if (error instanceof HeraldApiError && PERMANENT_REFUSALS.has(error.status)) {
            running = false;
            throw error;
          }
          // Said once when polls start failing, and once when they work again: not every poll.
          // Not after stop(): there is no next try to announce.
          if (!outage && !stopped) {
            const reason = o.describeError ? o.describeError(error) : (error as Error).message;
            outage = { since: Date.now(), reason };
            o.log(`polling ${o.project} failed: ${reason} (trying again every ${o.intervalMs} ms, quietly)`);
          }
        } finally {
          activity = null;
        }
        if (!running) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, o.intervalMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeUp = null;
      }
    },
    stop() {
      running = false;
      stopped = true;
      wakeUp?.();
    },
    activity() {
      return activity;
    },
    forwarding() {
      return forwarding;
    },
  };
  return forwarder;
}
