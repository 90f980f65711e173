/**
 * The soak's use of the management API: one call every 3 s, each in turn, one after the other;
 * every 20th turn also re-enables the endpoints Herald disabled (the failing one, again and again).
 */
import type { SoakApi } from './soak-api.ts';
import type { SoakLoad } from './soak-load.ts';
import type { SoakProject } from './soak-setup.ts';

export interface SoakManagement {
  /** Calls made, by name. */
  calls: Record<string, number>;
  /** Re-enables, by endpoint key. */
  enables: Record<string, number>;
  /** The events the test sends created: listed, but not accepted through the batch API. */
  testEvents: Set<string>;
  /** Starts no more calls; resolves once the current one is done. */
  stop(): Promise<void>;
}

export function startSoakManagement(api: SoakApi, project: SoakProject, load: SoakLoad): SoakManagement {
  const { json, request } = api;
  const p = project.path;
  const ep = project.endpointPath;
  const testEvents = new Set<string>();
  const calls: Record<string, number> = {};
  const enables: Record<string, number> = {};
  const recentEvent = () => load.accepted.ids[Math.max(0, load.accepted.ids.length - 200)];
  const actions: [string, () => Promise<unknown>][] = [
    ['list events', () => json('GET', `${p}/events?limit=50`)],
    [
      'event deliveries',
      async () => recentEvent() && json('GET', `${p}/events/${recentEvent()}/deliveries?limit=10`),
    ],
    ['failed attempts', () => json('GET', `${ep('flaky')}/attempts?status=failed&limit=50`)],
    ['stats', () => json('GET', `${ep('a')}/stats?bucket=1m&since=${Math.floor(Date.now() - 3_600_000)}`)],
    [
      'retry',
      async () => {
        const id = load.recentDeliveriesOfA.shift();
        // 409 while an attempt of it is in flight.
        if (id) await request('POST', `${p}/deliveries/${id}/retry`, {}, [409]);
      },
    ],
    ['rotate secret', () => json('POST', `${ep('b')}/secret/rotate`, { graceSeconds: 60 })],
    [
      'test send',
      async () => {
        const sent = await json<{ eventId: string }>('POST', `${ep('a')}/test`, { eventType: 'order.paid' });
        testEvents.add(sent.eventId);
      },
    ],
    ['list endpoints', () => json('GET', `${p}/endpoints`)],
    ['operational events', () => json('GET', `${p}/operational-events?limit=20`)],
    ['event', async () => recentEvent() && json('GET', `${p}/events/${recentEvent()}`)],
    ['attempts of flaky', () => json('GET', `${ep('flaky')}/attempts?limit=100`)],
  ];
  const enableDisabled = async () => {
    const list = await json<{ data: { id: string; status: string }[] }>('GET', `${p}/endpoints?limit=100`);
    for (const e of list.data) {
      if (e.status === 'active') continue;
      const key = project.keyOf.get(e.id) ?? e.id;
      await json('POST', `${p}/endpoints/${e.id}/enable`, {});
      enables[key] = (enables[key] ?? 0) + 1;
    }
  };

  let turn = 0;
  let managing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    const [name, act] = actions[turn++ % actions.length]!;
    const extra = turn % 20 === 0 ? enableDisabled : null;
    managing = managing
      .then(async () => {
        await act();
        calls[name] = (calls[name] ?? 0) + 1;
        if (extra) await extra();
      })
      .catch((error: Error) => {
        api.unexpected.push(`${name}: ${error.message.slice(0, 300)}`);
      });
  }, 3_000);

  return {
    calls,
    enables,
    testEvents,
    stop: async () => {
      clearInterval(timer);
      await managing;
    },
  };
}
