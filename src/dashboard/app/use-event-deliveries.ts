/**
 * The first few deliveries of each listed event, for the events list's badges. The events list does
 * not carry deliveries, and an event may fan out to thousands (GET …/events/:event is then megabytes),
 * so each shown event's first page of GET …/events/:event/deliveries is read, `upTo` long, a few
 * events at a time. How many more there are is the event's deliveryCount (stored when it was
 * accepted) less those; an event stored before Herald counted them has none, and its page's
 * nextCursor says only whether there are more. Events that already carry their deliveries are used
 * as they are, and events counted with none are not read.
 */
import { useEffect, useState } from 'preact/hooks';
import type { HeraldClient } from './api/client.ts';
import type { HeraldEvent } from './api/types.ts';
import { type FirstDeliveries, firstOfCarried, firstOfPage } from './first-deliveries.ts';

/** Requests in flight at once, so a long list does not flood the server. */
const PARALLEL = 4;

/**
 * Map event id → its first `upTo` deliveries, or null when they could not be read (a rate limit, a
 * network failure): the cell says so rather than looking still loaded. Grows as pages arrive;
 * refetches whenever `events` changes.
 */
export function useEventDeliveries(
  client: HeraldClient,
  projectId: string,
  events: HeraldEvent[],
  upTo: number,
): Map<string, FirstDeliveries | null> {
  const [known, setKnown] = useState(() => new Map<string, FirstDeliveries | null>());

  useEffect(() => {
    let cancelled = false;
    const queue = events.filter((event) => !event.deliveries && event.deliveryCount !== 0);
    const carried = new Map(
      events.flatMap((e) => {
        if (e.deliveries) return [[e.id, firstOfCarried(e.deliveries, upTo)] as const];
        return e.deliveryCount === 0
          ? [[e.id, { first: [], more: 0 } satisfies FirstDeliveries] as const]
          : [];
      }),
    );
    if (carried.size > 0) setKnown((previous) => new Map([...previous, ...carried]));
    const worker = async () => {
      for (let next = queue.shift(); next && !cancelled; next = queue.shift()) {
        const { id, deliveryCount } = next;
        try {
          const page = await client.listEventDeliveries(projectId, id, { upTo });
          const shown = firstOfPage(page, deliveryCount);
          if (!cancelled) setKnown((previous) => new Map(previous).set(id, shown));
        } catch {
          // One event failing to load says so in its cell; the list itself still works.
          if (!cancelled) setKnown((previous) => new Map(previous).set(id, null));
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
