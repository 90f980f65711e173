/** The soak's wait, once the load stops, for Herald's backlog to drain. */
import { nowMs, sleep } from './clock.ts';
import { gaugeValue } from './prom.ts';
import type { SoakApi } from './soak-api.ts';

export interface Drain {
  drained: boolean;
  /** How long the wait took. */
  seconds: number;
  /** herald_deliveries_pending at the last reading. */
  pendingAtEnd: number | null;
}

/**
 * Reads the metrics every second until no delivery is pending or `timeoutS` has passed; every
 * reading of the due-wait goes to `noteDueWait`.
 */
export async function waitForDrain(
  api: SoakApi,
  timeoutS: number,
  noteDueWait: (seconds: number | null) => void,
): Promise<Drain> {
  const start = nowMs();
  const deadline = start + timeoutS * 1_000;
  let drained = false;
  let pendingAtEnd: number | null = null;
  while (nowMs() < deadline) {
    const text = await api.metrics();
    pendingAtEnd = gaugeValue(text, 'herald_deliveries_pending');
    noteDueWait(gaugeValue(text, 'herald_oldest_pending_age_seconds'));
    if (pendingAtEnd === 0) {
      drained = true;
      break;
    }
    await sleep(1_000);
  }
  return { drained, seconds: (nowMs() - start) / 1000, pendingAtEnd };
}
