/**
 * Sustained ingest load for end-to-end tests: several loops post events to Herald (a mix of single
 * and batch requests over several projects), like a client with idempotency keys. Only a 202 counts
 * as acknowledged; a request that fails (the server died under it, or is not up yet) is queued and
 * sent again, unchanged and with the same keys, until it is acknowledged. Every answer is checked:
 * a key must always come back as the same event, and a deliberate replay of an acknowledged request
 * must return the original events without creating new ones.
 */

/** A seeded PRNG (mulberry32): the same seed draws the same sequence, so a run can be replayed. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/** One project the generator sends to: its id, an API key of it, and the event types to draw from. */
export interface LoadProject {
  id: string;
  apiKey: string;
  eventTypes: readonly string[];
}

/** A delivery as the 202 answer lists it. */
export interface AckedDelivery {
  id: string;
  endpointId: string | null;
  url: string;
}

/** An acknowledged event: what the 202 said about it. */
export interface AckedEvent {
  id: string;
  projectId: string;
  type: string;
  key: string;
  deliveries: AckedDelivery[];
}

export interface LoadOptions {
  projects: readonly LoadProject[];
  random: Random;
  /** Requests in flight at once. */
  parallel: number;
  /** Share of requests that are single events (the rest are batches). */
  singleShare: number;
  /** Events per batch request, drawn uniformly from [min, max]. */
  batchSize: readonly [number, number];
  /** Share of requests that re-send an already acknowledged request to check idempotency. */
  replayShare: number;
  /** Pause between two requests of one loop, drawn uniformly from [min, max] ms. */
  pauseMs: readonly [number, number];
  /** Called for every event the moment it is acknowledged (first time only). */
  onAck?(event: AckedEvent): void;
}

interface PlannedEvent {
  key: string;
  type: string;
  payload: { key: string; n: number; note: string };
}

interface PlannedRequest {
  project: LoadProject;
  kind: 'single' | 'batch';
  /** Single requests put the key in the `Idempotency-Key` header or in the body, drawn at random. */
  keyInHeader: boolean;
  events: PlannedEvent[];
  /** Failed sends so far (server down or died under it). */
  failures: number;
}

interface EventAnswer {
  id: string;
  projectId: string;
  type: string;
  idempotencyKey: string | null;
  createdAt: string;
  deliveries: AckedDelivery[];
}

export interface LoadStats {
  /** Requests answered 202, replays included. */
  requestsAcked: number;
  /** Sends that failed without an answer (connection refused or reset): each is sent again. */
  requestsFailed: number;
  /** Answers other than 202 (each is sent again). */
  unexpectedStatus: Record<number, number>;
  /** Distinct events acknowledged. */
  eventsAcked: number;
  /** Events first acknowledged on a resend whose original had in fact been stored before the failure. */
  ackedOnResendAlreadyStored: number;
  /** Deliberate replays of acknowledged requests, each checked to return the original events. */
  replaysChecked: number;
}

const REQUEST_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LoadGenerator {
  readonly #options: LoadOptions;
  #url: string | null = null;
  #creating = false;
  #running = false;
  #loops: Promise<void>[] = [];
  #sequence = 0;
  readonly #retry: PlannedRequest[] = [];
  #inFlight = 0;
  /** Acknowledged requests, for deliberate replays (a bounded sample). */
  readonly #ackedRequests: PlannedRequest[] = [];
  /** key → acknowledged event. */
  readonly #byKey = new Map<string, AckedEvent>();
  /** Contract violations seen in answers: each one is a bug. */
  readonly violations: string[] = [];
  readonly stats: LoadStats = {
    requestsAcked: 0,
    requestsFailed: 0,
    unexpectedStatus: {},
    eventsAcked: 0,
    ackedOnResendAlreadyStored: 0,
    replaysChecked: 0,
  };

  constructor(options: LoadOptions) {
    this.#options = options;
  }

  /** Every acknowledged event, by idempotency key. */
  get acknowledged(): ReadonlyMap<string, AckedEvent> {
    return this.#byKey;
  }

  /** Requests waiting to be sent again. */
  get pendingResends(): number {
    return this.#retry.length;
  }

  /** Starts the loops against `url`; new requests are made until `finish()`. */
  start(url: string): void {
    this.#url = url;
    this.#running = true;
    this.#creating = true;
    this.#loops = Array.from({ length: this.#options.parallel }, () => this.#loop());
  }

  /** Where to send from now on (the server restarted on another port), or null while it is down. */
  setTarget(url: string | null): void {
    this.#url = url;
  }

  /**
   * Stops making new requests, sends every failed one again until it is acknowledged (the server
   * must be up), and resolves when nothing is left in flight or queued; rejects after `timeoutMs`.
   */
  async finish(timeoutMs: number): Promise<void> {
    this.#creating = false;
    const deadline = Date.now() + timeoutMs;
    while (this.#retry.length > 0 || this.#inFlight > 0) {
      if (Date.now() > deadline) {
        this.#running = false;
        throw new Error(
          `load generator: ${this.#retry.length} requests still unacknowledged after ${timeoutMs} ms`,
        );
      }
      await sleep(20);
    }
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(): Promise<void> {
    const { random, pauseMs } = this.#options;
    while (this.#running) {
      const url = this.#url;
      if (url === null) {
        await sleep(20);
        continue;
      }
      const resend = this.#retry.shift();
      const next = resend ? { request: resend, replay: false } : this.#creating ? this.#next() : undefined;
      if (!next) {
        await sleep(20);
        continue;
      }
      const { request, replay } = next;
      this.#inFlight++;
      try {
        const ok = await this.#send(url, request, replay);
        if (!ok) {
          // A replay that fails is dropped (it was acknowledged already); anything else is sent again.
          if (!replay) {
            request.failures++;
            this.#retry.push(request);
          }
          await sleep(random.int(20, 60)); // the server is down or restarting: back off a little
        }
      } finally {
        this.#inFlight--;
      }
      const pause = random.int(pauseMs[0], pauseMs[1]);
      if (pause > 0) await sleep(pause);
    }
  }

  /** A new request, or now and then a replay of an acknowledged one. */
  #next(): { request: PlannedRequest; replay: boolean } {
    const { random, projects, singleShare, batchSize, replayShare } = this.#options;
    if (this.#ackedRequests.length > 0 && random.chance(replayShare)) {
      return { request: random.pick(this.#ackedRequests), replay: true };
    }
    const project = random.pick(projects);
    const single = random.chance(singleShare);
    const count = single ? 1 : random.int(batchSize[0], batchSize[1]);
    const events = Array.from({ length: count }, () => {
      const n = this.#sequence++;
      const key = `load-${n}`;
      return { key, type: random.pick(project.eventTypes), payload: { key, n, note: `event ${n}` } };
    });
    const keyInHeader = random.chance(0.5);
    return {
      request: { project, kind: single ? 'single' : 'batch', keyInHeader, events, failures: 0 },
      replay: false,
    };
  }

  /** Sends one request; true when it was acknowledged, false when it must be sent again. */
  async #send(url: string, request: PlannedRequest, replay: boolean): Promise<boolean> {
    const { project } = request;
    const headers: Record<string, string> = {
      authorization: `Bearer ${project.apiKey}`,
      'content-type': 'application/json',
    };
    let path = `/api/v1/projects/${project.id}/events`;
    let body: unknown;
    if (request.kind === 'single') {
      const e = request.events[0]!;
      if (request.keyInHeader) {
        headers['idempotency-key'] = e.key;
        body = { type: e.type, payload: e.payload };
      } else body = { type: e.type, payload: e.payload, idempotencyKey: e.key };
    } else {
      path += '/batch';
      body = {
        events: request.events.map((e) => ({ type: e.type, payload: e.payload, idempotencyKey: e.key })),
      };
    }
    const sentAt = Date.now();
    let status: number;
    let text: string;
    let replayedHeader: string | null;
    try {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        // A server that hangs instead of dying: give up on this send and make it again.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      replayedHeader = response.headers.get('idempotent-replayed');
      text = await response.text();
    } catch {
      this.stats.requestsFailed++;
      return false;
    }
    if (status !== 202) {
      this.stats.unexpectedStatus[status] = (this.stats.unexpectedStatus[status] ?? 0) + 1;
      if (status < 500) this.violations.push(`${path} answered ${status}: ${text.slice(0, 300)}`);
      return false;
    }
    const answers: EventAnswer[] =
      request.kind === 'single'
        ? [JSON.parse(text) as EventAnswer]
        : (JSON.parse(text) as { data: EventAnswer[] }).data;
    this.stats.requestsAcked++;
    if (answers.length !== request.events.length) {
      this.violations.push(`${path}: ${request.events.length} events sent, ${answers.length} in the answer`);
      return true;
    }
    if (replay) {
      this.stats.replaysChecked++;
      if (request.kind === 'single' && replayedHeader !== 'true') {
        this.violations.push(
          `replay of ${request.events[0]!.key} answered without Idempotent-Replayed: true`,
        );
      }
    }
    for (const [i, planned] of request.events.entries()) {
      const answer = answers[i]!;
      const known = this.#byKey.get(planned.key);
      if (answer.idempotencyKey !== planned.key) {
        this.violations.push(
          `${planned.key} answered as event ${answer.id} with key ${answer.idempotencyKey}`,
        );
      }
      if (known) {
        if (known.id !== answer.id) {
          this.violations.push(`key ${planned.key} acknowledged as two events: ${known.id} and ${answer.id}`);
        }
        continue;
      }
      if (replay) this.violations.push(`replay of ${planned.key} found no acknowledged event`);
      const acked: AckedEvent = {
        id: answer.id,
        projectId: answer.projectId,
        type: answer.type,
        key: planned.key,
        deliveries: answer.deliveries.map((d) => ({ id: d.id, endpointId: d.endpointId, url: d.url })),
      };
      this.#byKey.set(planned.key, acked);
      this.stats.eventsAcked++;
      // Stored by an earlier send whose answer was lost (the server died after the commit).
      if (request.failures > 0 && Date.parse(answer.createdAt) < sentAt)
        this.stats.ackedOnResendAlreadyStored++;
      this.#options.onAck?.(acked);
    }
    if (!replay) {
      if (this.#ackedRequests.length < 500) this.#ackedRequests.push(request);
      else this.#ackedRequests[this.#options.random.int(0, 499)] = request;
    }
    return true;
  }
}
