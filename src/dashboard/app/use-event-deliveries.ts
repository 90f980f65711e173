/**
 * The first few deliveries of each listed event, for the events list's badges. The events list does
 * not carry deliveries, and an event may fan out to thousands (GET …/events/:event is then megabytes),
 * so each shown event's first page of GET …/events/:event/deliveries is read, `upTo` long, a few
 * events at a time. Its nextCursor says whether there are more, not how many: counting them would
 * cost a read of every delivery. Events that already carry their deliveries are used as they are.
 */
import { useEffect, useState } from 'preact/hooks';
import type { HeraldClient } from './api/client.ts';
import type { DeliverySummary, HeraldEvent } from './api/types.ts';

/** Requests in flight at once, so a long list does not flood the server. */
const PARALLEL = 4;

/** What the events list knows of one event's deliveries. */
export interface FirstDeliveries {
  /** The first of them in id order (as the event's page lists them), at most `upTo`. */
  first: DeliverySummary[];
  /** How many more there are: a number when known, `'some'` when only that there are more, 0 for none. */
  more: number | 'some';
}

/** The first `upTo` of deliveries an event carried whole, and how many are left. */
export function firstOfCarried(deliveries: DeliverySummary[], upTo: number): FirstDeliveries {
  return { first: deliveries.slice(0, upTo), more: Math.max(0, deliveries.length - upTo) };
}

/** Map event id → its first `upTo` deliveries; grows as pages arrive. Refetches whenever `events` changes. */
export function useEventDeliveries(
  client: HeraldClient,
  projectId: string,
  events: HeraldEvent[],
  upTo: number,
): Map<string, FirstDeliveries> {
  const [known, setKnown] = useState(() => new Map<string, FirstDeliveries>());

  useEffect(() => {
    let cancelled = false;
    const queue = events.filter((event) => !event.deliveries);
    const carried = new Map(
      events.flatMap((e) => (e.deliveries ? [[e.id, firstOfCarried(e.deliveries, upTo)] as const] : [])),
    );
    if (carried.size > 0) setKnown((previous) => new Map([...previous, ...carried]));
    const worker = async () => {
      for (let next = queue.shift(); next && !cancelled; next = queue.shift()) {
        const id = next.id;
        try {
          const page = await client.listEventDeliveries(projectId, id, { upTo });
          const shown: FirstDeliveries = { first: page.data, more: page.nextCursor === null ? 0 : 'some' };
          if (!cancelled) setKnown((previous) => new Map(previous).set(id, shown));
        } catch {
          // One event failing to load leaves its cell empty; the list itself still works.
        }
      }
    };
    for (let i = 0; i < PARALLEL; i++) void worker();
    return () => {
      cancelled = true;
    };
  }, [client, projectId, events, upTo]);

  return known;
}
