/**
 * The dispatcher's attempt slots: the attempts running in the process, per endpoint and per
 * project, against the process's, each endpoint's and each project's caps (fair-share.ts decides a
 * project's room). Pure bookkeeping: the dispatcher starts attempts through `launch` and is told
 * when one ends, to start queued work in the slot it freed.
 */
import type { DeliveryConfig } from '../config/config-types.ts';
import { projectRoomNow } from './fair-share.ts';

type SlotConfig = Pick<DeliveryConfig, 'concurrency' | 'perEndpointConcurrency' | 'perProjectConcurrency'>;

export interface AttemptSlots {
  /** Attempts running in the process. */
  readonly inFlight: number;
  /** Attempts running for the endpoint. */
  ofEndpoint(endpointId: string): number;
  /** Attempts running for the project (callbacks included). */
  ofProject(projectId: string): number;
  /** The project's callbacks (no endpoint) running. */
  ofCallbacks(projectId: string): number;
  /**
   * How many more attempts the project may start now (record queue aside): up to its cap
   * (perProjectConcurrency) and the process's free slots, but the last `reserve` free slots (the
   * process cap minus the project cap) only while it has fewer than one endpoint's cap in flight.
   * So one tenant cannot take every slot, and neither can several together: a project already
   * using many leaves the reserve to the projects using few (fair-share.ts).
   */
  projectAllowance(projectId: string): number;
  /** Whether the project may start no attempt now (projectAllowance). */
  projectFull(projectId: string): boolean;
  /** Starts `run` as an attempt of the project (and of the endpoint `key`; null: a callback). */
  launch(key: string | null, projectId: string, run: () => Promise<void>): void;
  /**
   * Waits until every running attempt has ended, or `graceMs` passed and the sockets have been read
   * since: how many still run.
   */
  settle(graceMs: number): Promise<number>;
}

export interface AttemptSlotsOptions {
  config: SlotConfig;
  /** The number in flight changed (an attempt started or ended). */
  onCount: () => void;
  /** An attempt ended and its slots are free; `key` is its endpoint (null: a callback). */
  onFreed: (key: string | null, projectId: string) => void;
  /** An attempt's run rejected (it should not: attempts record their own failures). */
  onError: (error: unknown) => void;
}

export function createAttemptSlots(options: AttemptSlotsOptions): AttemptSlots {
  const { config, onCount, onFreed, onError } = options;
  let inFlight = 0;
  const perEndpoint = new Map<string, number>();
  /** Attempts in flight per project (callbacks included): at most perProjectConcurrency. */
  const perProject = new Map<string, number>();
  /** Callbacks in flight per project. */
  const perCallbacks = new Map<string, number>();
  const running = new Set<Promise<void>>();

  const decrement = (counts: Map<string, number>, key: string) => {
    const left = (counts.get(key) ?? 1) - 1;
    if (left <= 0) counts.delete(key);
    else counts.set(key, left);
  };
  const projectAllowance = (projectId: string) =>
    projectRoomNow({
      own: perProject.get(projectId) ?? 0,
      free: config.concurrency - inFlight,
      projectCap: config.perProjectConcurrency,
      processCap: config.concurrency,
      smallProject: config.perEndpointConcurrency,
    });

  return {
    get inFlight() {
      return inFlight;
    },
    ofEndpoint: (endpointId) => perEndpoint.get(endpointId) ?? 0,
    ofProject: (projectId) => perProject.get(projectId) ?? 0,
    ofCallbacks: (projectId) => perCallbacks.get(projectId) ?? 0,
    projectAllowance,
    projectFull: (projectId) => projectAllowance(projectId) <= 0,
    launch(key, projectId, run) {
      inFlight++;
      onCount();
      if (key) perEndpoint.set(key, (perEndpoint.get(key) ?? 0) + 1);
      else perCallbacks.set(projectId, (perCallbacks.get(projectId) ?? 0) + 1);
      perProject.set(projectId, (perProject.get(projectId) ?? 0) + 1);
      const p: Promise<void> = run()
        .catch(onError)
        .finally(() => {
          inFlight--;
          onCount();
          decrement(perProject, projectId);
          if (key) decrement(perEndpoint, key);
          else decrement(perCallbacks, projectId);
          running.delete(p);
          onFreed(key, projectId);
        });
      running.add(p);
    },
    async settle(graceMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise<void>((resolve) => {
          // Over after the event loop's next read of the sockets, not in the timer's callback: a
          // thread held past the grace (synchronous work, a paused process) runs its due timers
          // before it reads the sockets, so an attempt whose answer came in time was still counted
          // as running, and its stop left it unrecorded (sent again after its lease).
          timer = setTimeout(() => setImmediate(resolve), graceMs);
        }),
      ]);
      clearTimeout(timer);
      return running.size;
    },
  };
}
