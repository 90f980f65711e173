/**
 * Event-type schema checks (domain/event-type-schema.ts) off the calling thread, with a time limit:
 * Ajv turns a schema's `pattern` into a RegExp, and `^(a+)+$` against forty `a`s and a `!`
 * backtracks for hours. On the API's thread that would stop every other request; here it stops one
 * worker thread, which is terminated (that interrupts a running RegExp) and replaced.
 *
 * One thread per checker, started on the first check that needs it and kept for the next ones;
 * checks wait their turn in a queue, and each gets SCHEMA_CHECK_TIMEOUT_MS of the thread's CPU time
 * once it runs (Worker.cpuUsage: a busy machine, which gives the thread less of each second, does
 * not turn a schema that checks in 0.3 s into a refusal), within SCHEMA_CHECK_WALL_FACTOR times
 * that on the clock. The thread
 * never keeps the process alive while no check waits, ends after IDLE_THREAD_MS without a check (its
 * V8 heap and Ajv cost ~10-20 MB, for an admin's rare catalog edits), and `close` ends it.
 */
import { Worker } from 'node:worker_threads';
import { type EventTypeSchemaProblem, eventTypeSchemaProblem } from '../domain/event-type-schema.ts';
import { SCHEMA_MAX_KEYWORDS, schemaSizeProblem } from '../domain/schema-size.ts';

/**
 * How much CPU time one check (the schema against its meta-schema, then the example against the
 * schema) may take. Counted on the wall clock, checks that took 0.3 s on a quiet machine were refused
 * on a loaded one (a CI run with other work beside it: a flat schema of 2,000 properties, a `$ref`
 * cycle answered as too large instead of as a cycle).
 */
export const SCHEMA_CHECK_TIMEOUT_MS = 1_000;
/** The wall-clock bound of a check, as a multiple of its CPU time: a thread starved for that long is ended too. */
export const SCHEMA_CHECK_WALL_FACTOR = 10;
/** How long the thread is kept for the next check once none waits. */
export const IDLE_THREAD_MS = 30_000;
/**
 * The thread's V8 old generation, in MiB. Ajv compiles a schema to code, and a schema that many
 * `$ref`s repeat grows that code faster than the time limit stops it (one took a process to 735
 * MiB uncapped); at the limit V8 ends the thread, and the check's answer says why. A backstop: V8
 * cannot stop a thread everywhere (at its cap inside a `JSON.stringify` it ended the whole process),
 * so a schema of more than SCHEMA_MAX_KEYWORDS keywords is refused before the thread sees it
 * (domain/schema-size.ts: such a schema needs up to ~48 MiB). Every catalog in examples/catalogs/
 * and a flat schema of 2,000 properties check in a fraction of it.
 */
export const SCHEMA_CHECK_HEAP_MB = 64;

/** To the thread: one check, `{schema, example}` as JSON text (exactly kept numbers stay digits). */
export interface ToSchemaThread {
  id: number;
  json: string;
}

export type FromSchemaThread =
  | { type: 'ready' }
  | { type: 'compiled'; id: number } // the schema is compiled: what follows is the example's check
  | { type: 'checked'; id: number; problem: EventTypeSchemaProblem | null };

export interface EventTypeSchemaChecker {
  /**
   * As `eventTypeSchemaProblem`, with a problem naming the schema when it has too many keywords to
   * compile (domain/schema-size.ts) or the check takes too long or too much memory.
   */
  check(schema: unknown, example: unknown): Promise<EventTypeSchemaProblem | null>;
  /** Whether its thread is up (started by a check, ended when idle, on a timeout, or by close). */
  threadUp(): boolean;
  /** Ends the thread; checks still waiting are rejected. */
  close(): Promise<void>;
}

interface Check {
  id: number;
  json: string;
  resolve(problem: EventTypeSchemaProblem | null): void;
  reject(error: Error): void;
}

/** The check under way: its timer, whether its schema compiled, and the thread's CPU time (µs) when it began. */
interface Running {
  check: Check;
  timer: NodeJS.Timeout;
  compiled: boolean;
  cpuAtStart: Promise<number | null>;
  startedAt: number;
}

/**
 * A thread's CPU time so far, in µs; null on a Node 24 without Worker.cpuUsage (before 24.6, which
 * bin/herald.js accepts): the limit is then counted on the clock, as before. Called there, it threw
 * out of the thread's 'ready' message and ended the process at its first schema check.
 */
const cpuOf = (w: Worker): Promise<number | null> =>
  typeof w.cpuUsage !== 'function'
    ? Promise.resolve(null)
    : w.cpuUsage().then(
        ({ user, system }) => user + system,
        () => 0, // an ended thread: its check is answered by its exit
      );

export function createEventTypeSchemaChecker({
  timeoutMs = SCHEMA_CHECK_TIMEOUT_MS,
  idleMs = IDLE_THREAD_MS,
  heapMb = SCHEMA_CHECK_HEAP_MB,
  maxKeywords = SCHEMA_MAX_KEYWORDS,
  threadUrl = new URL('./event-type-schema-thread.ts', import.meta.url),
}: {
  timeoutMs?: number;
  idleMs?: number;
  heapMb?: number;
  /** Past this many keywords a schema is refused unchecked (tests of the limits above count none). */
  maxKeywords?: number;
  /** The thread's module (tests give one that answers as this one does). */
  threadUrl?: URL;
} = {}): EventTypeSchemaChecker {
  const queue: Check[] = [];
  let worker: Worker | null = null;
  let ready = false;
  let running: Running | null = null;
  let nextId = 1;
  let closed = false;
  let idleTimer: NodeJS.Timeout | null = null;

  const start = () => {
    const w = new Worker(threadUrl, {
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    worker = w;
    ready = false;
    w.on('message', (message: FromSchemaThread) => {
      if (w !== worker) return;
      if (message.type === 'ready') ready = true;
      else if (message.type === 'compiled') {
        if (running?.check.id === message.id) running.compiled = true;
        return;
      } else if (running?.check.id === message.id) {
        clearTimeout(running.timer);
        running.check.resolve(message.problem);
        running = null;
      }
      next();
    });
    const failed = (error: Error) => {
      if (w !== worker) return;
      worker = null;
      const checks = running ? [running.check, ...queue.splice(0)] : queue.splice(0);
      if (running) clearTimeout(running.timer);
      running = null;
      for (const check of checks) check.reject(error);
    };
    w.on('error', (error: Error & { code?: string }) => {
      if (w === worker && running && error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        // The check that filled the heap is answered; the ones waiting get a new thread.
        const { check, timer, compiled } = running;
        clearTimeout(timer);
        running = null;
        worker = null;
        check.resolve({
          field: 'schema',
          message: `${compiled ? 'checking the example against the schema' : 'compiling the schema'} took more than ${heapMb} MiB of memory: it is too large to check (a large schema that many $refs repeat?)`,
        });
        next();
        return;
      }
      failed(new Error(`the schema check thread failed: ${error.message}`));
    });
    w.on('exit', (code) => failed(new Error(`the schema check thread exited with code ${code}`)));
  };

  /** Runs the next waiting check, starting the thread if needed; lets the process exit when idle. */
  const next = () => {
    if (closed) return;
    if (running) return;
    if (queue.length === 0) {
      const idle = worker;
      if (idle) {
        idle.unref();
        if (idleTimer) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          idleTimer = null;
          if (worker !== idle || running || queue.length) return;
          worker = null;
          void idle.terminate();
        }, idleMs).unref();
      }
      return;
    }
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (!worker) start();
    const w = worker as Worker;
    w.ref(); // a CLI awaiting its check must not exit under it
    if (!ready) return; // its 'ready' message calls next again
    const check = queue.shift() as Check;
    const cpuAtStart = cpuOf(w);
    const wallLimit = timeoutMs * SCHEMA_CHECK_WALL_FACTOR;
    // At each turn of the timer: ended once the check has had its CPU time (or the wall bound has
    // passed); otherwise armed again for the CPU time it has left.
    const due = async () => {
      if (running?.check !== check) return;
      const cpuNow = await cpuOf(w);
      const cpuThen = await cpuAtStart;
      if (running?.check !== check) return; // answered meanwhile
      const elapsed = performance.now() - running.startedAt;
      const used = cpuNow === null || cpuThen === null ? elapsed : (cpuNow - cpuThen) / 1_000;
      if (used < timeoutMs && elapsed < wallLimit) {
        running.timer = setTimeout(due, Math.min(timeoutMs - used, wallLimit - elapsed) + 1);
        return;
      }
      const { compiled } = running;
      running = null;
      worker = null;
      void w.terminate();
      const what = compiled ? 'checking the example against the schema' : 'compiling the schema';
      const why = compiled
        ? 'a pattern that backtracks without end?'
        : 'it is too large to check (a large schema that many $refs repeat?)';
      check.resolve({
        field: 'schema',
        message:
          used >= timeoutMs
            ? `${what} took longer than ${timeoutMs} ms: ${why}`
            : `${what} did not end within ${wallLimit} ms, this server being too busy to give it ${timeoutMs} ms: send it again later`,
      });
      next();
    };
    running = {
      check,
      timer: setTimeout(due, timeoutMs),
      compiled: false,
      cpuAtStart,
      startedAt: performance.now(),
    };
    w.postMessage({ id: check.id, json: check.json } satisfies ToSchemaThread);
  };

  return {
    check(schema, example) {
      // No schema, or a boolean one, needs no Ajv: answered here.
      if (schema === null || schema === undefined || typeof schema === 'boolean') {
        return Promise.resolve(eventTypeSchemaProblem(schema, example));
      }
      // Too large to compile within the heap cap: refused here, without the thread.
      const tooLarge = schemaSizeProblem(schema, maxKeywords);
      if (tooLarge) return Promise.resolve({ field: 'schema', message: tooLarge });
      if (closed) return Promise.reject(new Error('the schema checker is closed'));
      return new Promise((resolve, reject) => {
        queue.push({ id: nextId++, json: JSON.stringify({ schema, example }), resolve, reject });
        next();
      });
    },
    threadUp: () => worker !== null,
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      const w = worker;
      worker = null;
      const checks = running ? [running.check, ...queue.splice(0)] : queue.splice(0);
      if (running) clearTimeout(running.timer);
      running = null;
      for (const check of checks) check.reject(new Error('the schema checker is closed'));
      if (w) await w.terminate();
    },
  };
}
