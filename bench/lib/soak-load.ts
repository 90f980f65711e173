/**
 * The soak's load: a batch of events through the batch API every 100 ms at a fixed rate, at most 8
 * in flight, and what each 202 said (its events, their deliveries, the fan-out against the filters).
 */
import type { SoakApi } from './soak-api.ts';
import { type AcceptedEvents, CALLBACK_DELIVERY, fanoutProblems } from './soak-checks.ts';
import { EVENT_MIX, hasCallback, type SoakEndpoint, typeOf } from './soak-plan.ts';
import type { SoakProject } from './soak-setup.ts';

const TICK_MS = 100;
const MAX_IN_FLIGHT = 8;
const MAX_BATCH = 1000;

export interface SoakLoad {
  accepted: AcceptedEvents;
  /** The number of deliveries in each accepted event's 202, in the order of `accepted.ids`. */
  deliveryCounts: number[];
  /** The accepted events that named a callbackUrl (every CALLBACK_EVERYth). */
  callbackEvents: string[];
  /** The last 50 of every 97th event's deliveries to endpoint `a`: the management calls retry them. */
  recentDeliveriesOfA: string[];
  /** Deliveries missing from or unexpected in the 202s, with the first few events concerned. */
  fanout: { missing: number; unexpected: number; examples: string[] };
  /** Batches answered with anything but a 202, or that failed. */
  refused: string[];
  batchesSent: number;
  /** Ticks that sent nothing because 8 batches were in flight (the rate is then owed). */
  skippedTicks: number;
  /** Sends no more batches; resolves once those in flight are answered. */
  stop(): Promise<void>;
}

/** `callbackUrl` is the URL the events with a callback name (soak-plan.ts, hasCallback). */
export function startSoakLoad(
  api: SoakApi,
  project: SoakProject,
  endpoints: readonly SoakEndpoint[],
  rate: number,
  callbackUrl: string,
): SoakLoad {
  const load: SoakLoad = {
    accepted: { ids: [], types: [] },
    deliveryCounts: [],
    callbackEvents: [],
    recentDeliveriesOfA: [],
    fanout: { missing: 0, unexpected: 0, examples: [] },
    refused: [],
    batchesSent: 0,
    skippedTicks: 0,
    stop: async () => {
      loading = false;
      clearInterval(timer);
      await Promise.all([...batches]);
    },
  };
  const { fanout } = load;
  let seq = 0;
  let owed = 0;
  let inFlight = 0;
  let loading = true;
  const batches = new Set<Promise<void>>();

  const sendBatch = async (first: number, count: number) => {
    const events: string[] = [];
    const types: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = typeOf(first + i);
      types.push(t);
      const callback = hasCallback(first + i) ? `,"callbackUrl":${JSON.stringify(callbackUrl)}` : '';
      events.push(
        `{"type":"${EVENT_MIX[t]!.type}","payload":{"seq":${first + i},"sentAt":${Date.now()},"note":"soak ${'x'.repeat(200)}"}${callback}}`,
      );
    }
    const answer = await api.request(
      'POST',
      `${project.path}/events/batch`,
      `{"events":[${events.join(',')}]}`,
    );
    if (answer.status !== 202) {
      load.refused.push(`${answer.status} ${answer.text.slice(0, 200)}`);
      return;
    }
    const data = (
      JSON.parse(answer.text) as {
        data: { id: string; deliveries: { id: string; endpointId: string | null }[] }[];
      }
    ).data;
    data.forEach((event, i) => {
      const type = EVENT_MIX[types[i]!]!.type;
      const callback = hasCallback(first + i);
      if (callback) load.callbackEvents.push(event.id);
      const keys = event.deliveries.map((d) =>
        d.endpointId === null ? CALLBACK_DELIVERY : (project.keyOf.get(d.endpointId) ?? d.endpointId),
      );
      const problems = fanoutProblems(type, keys, endpoints, callback);
      fanout.missing += problems.missing.length;
      fanout.unexpected += problems.unexpected.length;
      if ((problems.missing.length || problems.unexpected.length) && fanout.examples.length < 5) {
        fanout.examples.push(
          `${event.id} (${type}): missing ${problems.missing}, unexpected ${problems.unexpected}`,
        );
      }
      load.accepted.ids.push(event.id);
      load.accepted.types.push(types[i]!);
      load.deliveryCounts.push(event.deliveries.length);
      const toA = event.deliveries.find((d) => d.endpointId === project.endpointIds.get('a'));
      if (toA && (first + i) % 97 === 0) {
        load.recentDeliveriesOfA.push(toA.id);
        if (load.recentDeliveriesOfA.length > 50) load.recentDeliveriesOfA.shift();
      }
    });
  };

  const timer = setInterval(() => {
    if (!loading) return;
    owed += rate / (1000 / TICK_MS);
    if (inFlight >= MAX_IN_FLIGHT) {
      load.skippedTicks++;
      return;
    }
    const count = Math.min(MAX_BATCH, Math.floor(owed));
    if (count === 0) return;
    owed -= count;
    const first = seq;
    seq += count;
    inFlight++;
    load.batchesSent++;
    const batch = sendBatch(first, count)
      .catch((error: Error) => {
        load.refused.push(`error ${error.message}`);
      })
      .finally(() => {
        inFlight--;
        batches.delete(batch);
      });
    batches.add(batch);
  }, TICK_MS);
  return load;
}
