/**
 * The soak's invariants, checked once the backlog has drained, through the API and the receiver:
 * nothing lost, nothing stuck, every count consistent, no 5xx. The comparisons themselves are pure
 * (lib/soak-checks.ts); this file fetches what they compare.
 */
import type { SoakApi } from './soak-api.ts';
import { attemptCountProblems, counterSum, listingProblems, missingArrivals } from './soak-checks.ts';
import type { Drain } from './soak-drain.ts';
import type { SoakLoad } from './soak-load.ts';
import { CALLBACK_KEY, EVENT_MIX, PROJECT_RETRY_SCHEDULE, type SoakEndpoint, takes } from './soak-plan.ts';
import type { SoakReceiver } from './soak-receiver-client.ts';
import { round } from './soak-sample.ts';
import type { SoakProject } from './soak-setup.ts';

/** HERALD_LEASE_MS's default: a due delivery waiting longer than this is stuck. */
const LEASE_S = 60;
/** Of the deliveries a flaky or slow endpoint never received, at most this many are looked up. */
const LOOKUPS = 3_000;

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

/** Per endpoint that answers: deliveries expected, arrived, missing, failed for good, and wrong. */
export interface Arrival {
  expected: number;
  arrived: number;
  missing: number;
  exhausted: number;
  bad: string[];
}

export interface SoakOutcome {
  api: SoakApi;
  project: SoakProject;
  endpoints: readonly SoakEndpoint[];
  receiver: SoakReceiver;
  load: SoakLoad;
  /** The events the test sends created. */
  testEvents: Set<string>;
  drain: Drain;
  maxOldestDueS: number;
  /** How Herald exited during the run, null while it still runs. */
  heraldExited: string | null;
  heraldPid: number;
  /** Events whose deliveries and attempts are read one by one. */
  auditSample: number;
}

/** Checks every invariant in turn, logging a line for each as it is decided. */
export async function checkSoakInvariants(
  outcome: SoakOutcome,
  log: (line: string) => void,
): Promise<{ invariants: Invariant[]; arrivals: Record<string, Arrival> }> {
  const { load, drain } = outcome;
  const { accepted, fanout, refused } = load;
  const invariants: Invariant[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    invariants.push({ name, ok, detail });
    log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  };
  log('invariants:');
  check(
    'herald ran throughout',
    outcome.heraldExited === null,
    outcome.heraldExited ?? `pid ${outcome.heraldPid} still running`,
  );
  check(
    'every batch accepted',
    refused.length === 0 && accepted.ids.length > 0,
    `${accepted.ids.length} events in ${load.batchesSent} batches; ${refused.length} refused${refused.length ? `: ${refused.slice(0, 3).join(' | ')}` : ''}`,
  );
  check(
    'fan-out follows the filters',
    fanout.missing === 0 && fanout.unexpected === 0,
    `${fanout.missing} deliveries missing, ${fanout.unexpected} unexpected in the 202s${fanout.examples.length ? `: ${fanout.examples.join('; ')}` : ''}`,
  );
  check(
    'backlog drained, nothing stuck',
    drain.drained && outcome.maxOldestDueS < LEASE_S,
    `pending ${drain.pendingAtEnd} at the end (${drain.drained ? `drained in ${round(drain.seconds)} s` : 'not drained'}); longest a due delivery waited: ${round(outcome.maxOldestDueS)} s (a lease is ${LEASE_S} s)`,
  );
  check('every accepted event listed with its deliveries', ...(await listingCheck(outcome)));
  const arrivals = await arrivalsByEndpoint(outcome);
  check(
    'deliveries to answering endpoints arrived',
    Object.values(arrivals).every((r) => r.bad.length === 0),
    Object.entries(arrivals)
      .map(
        ([k, r]) =>
          `${k} ${r.arrived}/${r.expected}${r.exhausted ? ` (+${r.exhausted} exhausted)` : ''}${r.bad.length ? ` BAD ${r.bad.slice(0, 3).join(', ')}` : ''}`,
      )
      .join('; '),
  );
  check('attempt counts match the attempts listed', ...(await attemptCountCheck(outcome)));
  check('no 5xx, no unexpected answer', ...(await serverErrorCheck(outcome.api)));
  return { invariants, arrivals };
}

/** Every accepted event is listed, with the deliveries its 202 had. */
async function listingCheck({ api, project, load, testEvents }: SoakOutcome): Promise<[boolean, string]> {
  const listed = new Map<string, number | null>();
  let cursor: string | null = null;
  do {
    const page: { data: { id: string; deliveryCount: number | null }[]; nextCursor: string | null } =
      await api.json('GET', `${project.path}/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    for (const e of page.data) listed.set(e.id, e.deliveryCount);
    cursor = page.nextCursor;
  } while (cursor);
  const acceptedCounts = new Map(load.accepted.ids.map((id, i) => [id, load.deliveryCounts[i]!]));
  const listing = listingProblems(acceptedCounts, listed, testEvents);
  return [
    listing.unlisted.length + listing.countDiffers.length + listing.unknown.length === 0,
    `${listed.size} listed (${testEvents.size} test sends); ${listing.unlisted.length} unlisted, ${listing.countDiffers.length} with another deliveryCount, ${listing.unknown.length} unknown${[
      ...listing.unlisted,
      ...listing.countDiffers,
      ...listing.unknown,
    ]
      .slice(0, 3)
      .map((id) => ` ${id}`)
      .join('')}`,
  ];
}

/** Every delivery to an endpoint that answers arrived, or (flaky, slow) failed for good. */
async function arrivalsByEndpoint({
  api,
  project,
  endpoints,
  receiver,
  load,
}: SoakOutcome): Promise<Record<string, Arrival>> {
  const { accepted } = load;
  const deliveryOf = async (eventId: string, endpoint: SoakEndpoint) => {
    const page = await api.json<{
      data: { id: string; endpointId: string; status: string; attempts: number }[];
    }>('GET', `${project.path}/events/${eventId}/deliveries?limit=50`);
    return page.data.find((d) => d.endpointId === project.endpointIds.get(endpoint.key)) ?? null;
  };
  const arrivals: Record<string, Arrival> = {};
  for (const endpoint of endpoints) {
    if (endpoint.kind === 'failing') continue;
    const ids = await receiver.ids(endpoint.key);
    const missing = missingArrivals(accepted, endpoint, ids);
    const expected = accepted.types.filter((type) => takes(endpoint, EVENT_MIX[type]!.type)).length;
    const row: Arrival = {
      expected,
      arrived: expected - missing.length,
      missing: missing.length,
      exhausted: 0,
      bad: [],
    };
    arrivals[endpoint.key] = row;
    if (endpoint.kind === 'healthy') {
      row.bad.push(...missing.slice(0, 5));
      continue;
    }
    // A flaky or slow delivery may have used up its schedule: it must say so (failed, every attempt made).
    for (const eventId of missing.slice(0, LOOKUPS)) {
      const d = await deliveryOf(eventId, endpoint);
      const attempts = (endpoint.retrySchedule?.length ?? 0) + 1;
      if (d && d.status === 'failed' && d.attempts >= attempts) row.exhausted++;
      else if (row.bad.length < 5)
        row.bad.push(`${eventId}: ${d ? `${d.status} after ${d.attempts}` : 'no delivery'}`);
      else row.bad.push(eventId);
    }
    if (missing.length > LOOKUPS) row.bad.push(`${missing.length - LOOKUPS} more not looked up`);
  }
  // The callbacks answer in 150 ms, never past their timeout: every one arrives.
  const arrived = await receiver.ids(CALLBACK_KEY);
  const missing = load.callbackEvents.filter((id) => !arrived.has(id));
  const row: Arrival = {
    expected: load.callbackEvents.length,
    arrived: load.callbackEvents.length - missing.length,
    missing: missing.length,
    exhausted: 0,
    bad: [],
  };
  arrivals[CALLBACK_KEY] = row;
  for (const eventId of missing.slice(0, 5)) {
    const page = await api.json<{ data: { endpointId: string | null; status: string; attempts: number }[] }>(
      'GET',
      `${project.path}/events/${eventId}/deliveries?limit=50`,
    );
    const d = page.data.find((x) => x.endpointId === null);
    row.bad.push(
      `${eventId}: ${d ? `${d.status} after ${d.attempts} of ${PROJECT_RETRY_SCHEDULE.length + 1}` : 'no delivery'}`,
    );
  }
  if (missing.length > 5) row.bad.push(`${missing.length - 5} more`);
  return arrivals;
}

/** The deliveries' `attempts` against the attempts listed, for a random sample of the events. */
async function attemptCountCheck({
  api,
  project,
  load,
  auditSample,
}: SoakOutcome): Promise<[boolean, string]> {
  const { ids } = load.accepted;
  const p = project.path;
  const audit: string[] = [];
  let auditedDeliveries = 0;
  let auditedAttempts = 0;
  const picks = new Set<number>();
  for (let i = 0; picks.size < Math.min(auditSample, ids.length) && i < auditSample * 10; i++) {
    picks.add(Math.floor(Math.random() * ids.length));
  }
  for (const i of picks) {
    const id = ids[i]!;
    const event = await api.json<{ deliveries: { id: string; attempts: number; status: string }[] }>(
      'GET',
      `${p}/events/${id}`,
    );
    const attempts: { deliveryId: string }[] = [];
    let next: string | null = null;
    do {
      const page: { data: { deliveryId: string }[]; nextCursor: string | null } = await api.json(
        'GET',
        `${p}/events/${id}/attempts?limit=1000${next ? `&cursor=${next}` : ''}`,
      );
      attempts.push(...page.data);
      next = page.nextCursor;
    } while (next);
    auditedDeliveries += event.deliveries.length;
    auditedAttempts += attempts.length;
    for (const problem of attemptCountProblems(event.deliveries, attempts)) {
      audit.push(`${id}/${problem.deliveryId}: says ${problem.says}, ${problem.listed} listed`);
    }
  }
  return [
    audit.length === 0,
    `${picks.size} events, ${auditedDeliveries} deliveries, ${auditedAttempts} attempts; ${audit.length} differ${audit.length ? `: ${audit.slice(0, 3).join('; ')}` : ''}`,
  ];
}

/** No 5xx seen by the soak nor counted by Herald, and no answer the soak did not expect. */
async function serverErrorCheck(api: SoakApi): Promise<[boolean, string]> {
  const { serverErrors, unexpected } = api;
  const http5xx = counterSum(await api.metrics(), 'herald_http_requests_total', /status_code="5\d\d"/);
  return [
    serverErrors.length === 0 && unexpected.length === 0 && http5xx === 0,
    `${serverErrors.length} 5xx and ${unexpected.length} unexpected answers seen; herald_http_requests_total 5xx ${http5xx}${[
      ...serverErrors,
      ...unexpected,
    ]
      .slice(0, 3)
      .map((l) => ` | ${l}`)
      .join('')}`,
  ];
}
