/**
 * The soak's invariants as pure functions over what it collected (the 202 answers, the receiver's
 * webhook-ids, the API's listings), so that each can be tested without a soak.
 */
import { EVENT_MIX, type SoakEndpoint, takes } from './soak-plan.ts';

/** Every event the soak had accepted (a 202), in order: its id and its index in EVENT_MIX. */
export interface AcceptedEvents {
  ids: string[];
  types: number[];
}

/** The key a 202's delivery to the event's callbackUrl (no endpoint) is counted under. */
export const CALLBACK_DELIVERY = 'callback';

/**
 * What a 202 fanned out to against what the filters say, and one delivery to the callbackUrl when
 * the event had one (`CALLBACK_DELIVERY` among the keys). The failing endpoint is left out of
 * `missing`: while it is disabled an event gets no delivery for it, and it cycles on and off.
 */
export function fanoutProblems(
  type: string,
  deliveredKeys: readonly string[],
  endpoints: readonly SoakEndpoint[],
  callback = false,
): { missing: string[]; unexpected: string[] } {
  const got = new Set(deliveredKeys);
  const missing = endpoints
    .filter((e) => e.kind !== 'failing' && takes(e, type) && !got.has(e.key))
    .map((e) => e.key);
  if (callback && !got.has(CALLBACK_DELIVERY)) missing.push(CALLBACK_DELIVERY);
  let callbacks = 0;
  const unexpected = deliveredKeys.filter((key) => {
    if (key === CALLBACK_DELIVERY) return !callback || ++callbacks > 1;
    const endpoint = endpoints.find((e) => e.key === key);
    return !endpoint || !takes(endpoint, type);
  });
  return { missing, unexpected };
}

/** The accepted events an endpoint's filter takes that its receiver never answered 200 in time. */
export function missingArrivals(
  accepted: AcceptedEvents,
  endpoint: SoakEndpoint,
  arrived: ReadonlySet<string>,
): string[] {
  const missing: string[] = [];
  for (let i = 0; i < accepted.ids.length; i++) {
    const type = EVENT_MIX[accepted.types[i]!]!.type;
    if (takes(endpoint, type) && !arrived.has(accepted.ids[i]!)) missing.push(accepted.ids[i]!);
  }
  return missing;
}

/** Events listed by the API against those accepted: each accepted one listed, with its count. */
export function listingProblems(
  acceptedCounts: ReadonlyMap<string, number>,
  listed: ReadonlyMap<string, number | null>,
  testEvents: ReadonlySet<string>,
): { unlisted: string[]; countDiffers: string[]; unknown: string[] } {
  const unlisted: string[] = [];
  const countDiffers: string[] = [];
  for (const [id, count] of acceptedCounts) {
    if (!listed.has(id)) unlisted.push(id);
    else if (listed.get(id) !== count) countDiffers.push(id);
  }
  const unknown = [...listed.keys()].filter((id) => !acceptedCounts.has(id) && !testEvents.has(id));
  return { unlisted, countDiffers, unknown };
}

/** Deliveries whose `attempts` is not the number of attempts listed for them. */
export function attemptCountProblems(
  deliveries: readonly { id: string; attempts: number }[],
  attempts: readonly { deliveryId: string }[],
): { deliveryId: string; says: number; listed: number }[] {
  const listed = new Map<string, number>();
  for (const a of attempts) listed.set(a.deliveryId, (listed.get(a.deliveryId) ?? 0) + 1);
  return deliveries
    .filter((d) => d.attempts !== (listed.get(d.id) ?? 0))
    .map((d) => ({ deliveryId: d.id, says: d.attempts, listed: listed.get(d.id) ?? 0 }));
}

/** Sum of a Prometheus counter's samples whose labels match `labels` (a regular expression). */
export function counterSum(text: string, name: string, labels: RegExp = /.*/): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = close < 0 ? '' : line.slice(name.length + 1, close);
    if (!labels.test(labelText)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
