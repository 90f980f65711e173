/**
 * Delivery status of each listed event. The events list does not carry deliveries, so each shown
 * event's detail is fetched (a few at a time); events that already carry them are used as they are.
 */
import { useEffect, useState } from 'preact/hooks';
import type { HeraldClient } from './api/client.ts';
import type { DeliverySummary, HeraldEvent } from './api/types.ts';

/** Requests in flight at once, so a long list does not flood the server. */
const PARALLEL = 4;

/** Map event id → its deliveries; grows as details arrive. Refetches whenever `events` changes. */
export function useEventDeliveries(
  client: HeraldClient,
  projectId: string,
  events: HeraldEvent[],
): Map<string, DeliverySummary[]> {
  const [known, setKnown] = useState(() => new Map<string, DeliverySummary[]>());

  useEffect(() => {
    let cancelled = false;
    const queue = events.filter((event) => !event.deliveries);
    const carried = new Map(events.filter((e) => e.deliveries).map((e) => [e.id, e.deliveries!]));
    if (carried.size > 0) setKnown((previous) => new Map([...previous, ...carried]));
    const worker = async () => {
      for (let next = queue.shift(); next && !cancelled; next = queue.shift()) {
        try {
          const detail = await client.getEvent(projectId, next.id);
          if (!cancelled) setKnown((previous) => new Map(previous).set(detail.id, detail.deliveries ?? []));
        } catch {
          // One event failing to load leaves its cell empty; the list itself still works.
        }
      }
    };
    for (let i = 0; i < PARALLEL; i++) void worker();
    return () => {
      cancelled = true;
    };
  }, [client, projectId, events]);

  return known;
}
