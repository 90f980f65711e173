/** What the events list shows of an event's deliveries: the first few, and how many more there are. */
import type { DeliverySummary } from './api/types.ts';

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

/** The first page of an event's deliveries, and how many are left: by its count when it has one. */
export function firstOfPage(
  page: { data: DeliverySummary[]; nextCursor: string | null },
  deliveryCount: number | null | undefined,
): FirstDeliveries {
  if (page.nextCursor === null) return { first: page.data, more: 0 };
  const left = typeof deliveryCount === 'number' ? deliveryCount - page.data.length : null;
  // A count that disagrees with the page (it cannot, as deliveries go only with their event) is not shown.
  return { first: page.data, more: left !== null && left > 0 ? left : 'some' };
}
