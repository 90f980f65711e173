import { counted } from '../domain/counted.ts';

/**
 * The warning an endpoint disabled by the dispatcher logs: why (its reason, in words), what became
 * of its deliveries, and how to get them sent once its receiver works again. The ids are the
 * line's fields; its URL is left out (its query may hold a receiver's credential).
 */
export function endpointDisabledLine(reason: string, failureThreshold: number): string {
  const why =
    reason === 'gone'
      ? 'its receiver answered 410 Gone'
      : reason === 'consecutive_failures'
        ? `${counted(failureThreshold, 'consecutive failed attempts')} to its receiver (HERALD_FAILURE_THRESHOLD)`
        : `reason ${reason}`;
  return `endpoint disabled: ${why}; its pending deliveries are parked and new events skip it until it is enabled again (herald endpoints enable ID --project PROJECT, POST …/endpoints/:endpoint/enable, or the dashboard), which sends the parked ones`;
}
