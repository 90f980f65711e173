/**
 * One copy of each event for the deliveries the dispatcher holds. Every claim reads the events of
 * its rows again, so an event's deliveries claimed in different claims (its endpoints claimed as
 * they free up, retries) each brought their own copy of its payload, and kept it while they waited
 * in their endpoint's queue for a slot or for room among the bytes in flight: twelve 1 MiB events
 * to 60 hmac-sha1-url endpoints held ~100 copies at once (a heap snapshot of the dispatcher thread
 * near its 160 MiB limit), and the thread ran out of heap.
 *
 * A claimed delivery takes the event (and its payload's text) that a delivery of the same event
 * still held has, else its own becomes the one shared. Events never change once accepted (a replay
 * adds deliveries, not a new payload), so one is as good as another. Held weakly: the copy goes
 * once the last delivery holding it does. Only large payloads (SHARED_FROM).
 */
import type { HeraldEvent } from '../domain/types.ts';
import type { ClaimedDelivery } from '../store/store.ts';

/**
 * Payloads shorter than this (in characters) are left as each claim read them: their copies cannot
 * add up to much, and the ordinary small event pays one comparison, not the lookups (~1-2 µs).
 */
const SHARED_FROM = 16 * 1024;

export function createSharedPayloads(): (claimed: ClaimedDelivery) => void {
  const byEvent = new Map<string, WeakRef<HeraldEvent>>();
  const texts = new WeakMap<HeraldEvent, string | undefined>();
  const gone = new FinalizationRegistry<string>((key) => {
    if (byEvent.get(key)?.deref() === undefined) byEvent.delete(key);
  });
  return (claimed) => {
    if ((claimed.payloadJson?.length ?? 0) < SHARED_FROM) return;
    const key = `${claimed.event.projectId}/${claimed.event.id}`;
    const held = byEvent.get(key)?.deref();
    if (held !== undefined) {
      claimed.event = held;
      const text = texts.get(held);
      if (text !== undefined) claimed.payloadJson = text;
      else texts.set(held, claimed.payloadJson);
      return;
    }
    byEvent.set(key, new WeakRef(claimed.event));
    texts.set(claimed.event, claimed.payloadJson);
    gone.register(claimed.event, key);
  };
}
