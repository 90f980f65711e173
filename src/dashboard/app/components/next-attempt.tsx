/** When a delivery goes out next, relative ("in 5 min"), or "sending" while a worker holds it. */
import type { DeliverySummary } from '../api/types.ts';
import { RelativeTime } from './relative-time.tsx';

export function NextAttempt({ delivery }: { delivery: DeliverySummary }) {
  // While in flight, nextAttemptAt is the end of the worker's lease, not a next try.
  if (delivery.inFlight) {
    return <span title="A worker is sending it now; its attempt's record will settle it">sending</span>;
  }
  return <RelativeTime at={delivery.nextAttemptAt} />;
}
