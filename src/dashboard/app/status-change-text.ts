/**
 * An endpoint's disable or enable, as its operational event reports it (docs/api.md "Operational
 * events"), in words: "Disabled after 10 failed attempts in a row; parked 3 deliveries at the
 * disable", "Enabled; resumed 3 parked deliveries". `parked` counts what the disable parked as it
 * was written: deliveries whose attempts were in flight then are parked by their own records
 * afterwards, so the endpoint's Waiting card may count more (docs/delivery.md).
 */
import type { OperationalEvent } from './api/types.ts';
import { disabledReasonText } from './format.ts';

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function deliveries(n: number): string {
  return `${n.toLocaleString('en-US')} deliver${n === 1 ? 'y' : 'ies'}`;
}

export function statusChangeText(op: OperationalEvent): string {
  const data = op.data;
  if (op.type === 'endpoint.disabled') {
    const reason = typeof data['reason'] === 'string' ? data['reason'] : null;
    const why = disabledReasonText(reason, count(data['consecutiveFailures']) ?? 0);
    const parked = count(data['parked']);
    const what =
      parked === null
        ? ''
        : parked > 0
          ? `; parked ${deliveries(parked)} at the disable`
          : '; parked nothing at the disable';
    return `Disabled${why ? ` ${why}` : ''}${what}`;
  }
  const resumed = count(data['resumed']);
  const what =
    resumed === null ? '' : resumed > 0 ? `; resumed ${deliveries(resumed)} parked` : '; resumed nothing';
  return `Enabled${what}`;
}
