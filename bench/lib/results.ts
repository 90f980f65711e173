/** Shape of bench/results/<timestamp>.json (and of what the chart and the smoke test read). */
import type { HeraldUsage } from './herald-meter.ts';
import type { LatencyResult, WindowLatency } from './latency.ts';
import type { MachineInfo } from './machine.ts';
import type { BenchOptions, Profile } from './options.ts';
import type { RoundFailure } from './rounds.ts';
import type { Percentiles } from './stats.ts';

export interface SystemThroughput {
  /** `raw-undici`, `herald-sqlite`, `herald-postgres`, `bullmq-redis`. */
  system: string;
  /** The median round's rate (the other fields are that round's too). */
  deliveredPerSec: number;
  /** Every round's rate, round 1 first (`ThroughputResult.order` says when in each round it ran; failed rounds are left out). */
  rounds?: number[];
  /** Events the system accepted during the phase, and failed submissions. */
  accepted: number;
  errors: number;
  /** Events accepted in this round that had not arrived 120 s after the load stopped (lost or stuck). */
  undelivered?: number;
  ratioToRaw: number | null;
  ratioToBullmq: number | null;
  /** CPU over the window, % of one core: receiver, generator (this process) and the system's own. */
  cpu?: Record<string, number>;
  /** Closed loop: mean deliveries accepted but not yet arrived (near the bound = delivery-bound). */
  meanOutstanding?: number | null;
  /** Herald only: peak resident memory of the server, mean claim time over the window (if exported). */
  rssPeakMiB?: number;
  claimMeanMs?: number | null;
  /** Herald only: the process over the window (claims, CPU, heap). */
  herald?: HeraldUsage;
  note?: string;
}

export interface ThroughputResult {
  concurrency: number;
  batch: number;
  bound: number;
  payloadBytes: number;
  /** The systems took turns this many times. */
  rounds: number;
  /** The order the systems ran in, each round (rotated by one place a round; absent before 2026-12-05). */
  order?: string[][];
  /** Rounds of a system that failed (also in the run's `errors`); its median is of those that ran. */
  failures?: RoundFailure[];
  systems: SystemThroughput[];
}

export interface IngestRow {
  /** `single` or `batch of N`. */
  request: string;
  eventsPerRequest: number;
  parallel: number;
  eventsPerSec: number;
  requestMs: Percentiles;
}

export interface IngestResult {
  store: string;
  rows: IngestRow[];
}

export interface LatencyPoint extends LatencyResult {
  system: string;
  offeredPerSec: number;
  /** Share of the measured capacity this load is (null for a fixed rate). */
  share: number | null;
  /** Events actually handed over per second (lower than offered if the generator fell behind). */
  sentPerSec: number;
  skippedTicks: number;
  errors: number;
  /** CPU over the run, % of one core (see SystemThroughput.cpu). */
  cpu: Record<string, number>;
}

export interface LatencySection {
  /** Closed-loop capacity the shares refer to, per system. */
  capacity: Record<string, number>;
  points: LatencyPoint[];
}

export interface FanoutRun {
  /** The Herald process from the POST until the last arrival. */
  herald: HeraldUsage;
  acceptMs: number;
  firstArrivalMs: number;
  allArrivedMs: number;
}

export interface FanoutResult {
  store: string;
  endpoints: number;
  /** Endpoint creation over the API, per second (setup, for the record). */
  createPerSec: number;
  runs: FanoutRun[];
  acceptMsMedian: number;
  allArrivedMsMedian: number;
  deliveriesPerSec: number;
}

export interface ClaimProbe {
  backlog: number;
  rounds: number;
  limit: number;
  p50Ms: number;
  maxMs: number;
  /**
   * The same claims leaving the backlog's endpoint out (a saturated endpoint, as the dispatcher
   * leaves it out): what they took and how many deliveries of the other endpoint they found, of
   * `rounds` × `limit` (absent before 2026-12-05).
   */
  leavingOut?: { p50Ms: number; maxMs: number; claimed: number };
}

export interface BacklogResult {
  store: string;
  pending: number;
  fill: { eventsPerSec: number; seconds: number; apiRssPeakMiB: number };
  drain: {
    perSec: number;
    rssPeakMiB: number;
    rssLastMiB: number;
    claimMeanMs: number | null;
    /** The worker process over the window (claims, CPU, heap). */
    worker: HeraldUsage;
  };
  /** Claim time measured directly on the store (worker stopped), small and full backlog. */
  claimProbe: { small: ClaimProbe | null; full: ClaimProbe | null; error?: string };
}

export interface IsolationResult {
  store: string;
  healthyEndpoints: number;
  hangTimeoutMs: number;
  /** Mean of the phases without the hanging endpoint (one before each phase with it, one after the last). */
  withoutHanging: number;
  withoutHangingPhases: number[];
  /** Mean of the phases with the hanging endpoint (`isolationTurns` of them). */
  withHanging: number;
  withHangingPhases?: number[];
  /** Each phase with it against the mean of the phases on either side of it. */
  shares?: (number | null)[];
  /** The mean of `shares`. */
  share: number | null;
  /** The Herald process in the first phase of each kind (its window): claim time, CPU, memory. */
  herald: { withoutHanging: HeraldUsage; withHanging: HeraldUsage };
  /** Requests the hanging endpoint received during the run (each held until Herald's timeout). */
  hangingRequests: number;
}

/** A retention round as Herald logged it at its end. */
export interface RetentionRound {
  /** After Herald's start (the first round waits 30 s). */
  startedAfterMs: number;
  durationMs: number;
  events: number;
  deliveries: number;
  attempts: number;
  batches: number;
  /** Null for a round that took under a millisecond. */
  eventsPerSec: number | null;
}

export interface RetentionResult {
  store: string;
  /** Old events (two deliveries and attempts each), made through the API and moved two days back. */
  oldEvents: number;
  fill: { eventsPerSec: number; seconds: number };
  /** The live load: single events (`POST …/events`) to two endpoints, while the round runs. */
  offeredPerSec: number;
  sentPerSec: number;
  errors: number;
  firstError: string | null;
  /** Null when no round ended within the profile's `retentionMaxMs`. */
  round: RetentionRound | null;
  /**
   * The live events by when they were sent: after the warm-up until the round started, while it
   * ran, and from its end until the load stopped (null without a round).
   */
  before: WindowLatency;
  during: WindowLatency | null;
  after: WindowLatency | null;
  /** Largest size of SQLite's `-wal` file while the load ran (null on PostgreSQL). */
  walPeakMiB: number | null;
  rssPeakMiB: number;
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  pass: boolean | null;
}

export interface Results {
  version: 1;
  startedAt: string;
  finishedAt: string;
  profile: Profile;
  options: Omit<BenchOptions, 'profile'>;
  machine: MachineInfo;
  /** CPU the machine was using (% of one core) just before each scenario started, after waiting. */
  busyBefore: Record<string, number | null>;
  throughput?: ThroughputResult;
  ingest?: IngestResult[];
  latency?: LatencySection;
  fanout?: FanoutResult[];
  backlog?: BacklogResult[];
  isolation?: IsolationResult[];
  retention?: RetentionResult[];
  targets: Target[];
  errors: { scenario: string; message: string }[];
}
