/**
 * Event-type schema checks (domain/event-type-schema.ts) in a child process of their own, with a
 * time limit and a heap cap: Ajv turns a schema's `pattern` into a RegExp, and `^(a+)+$` against
 * forty `a`s and a `!` backtracks for hours; Ajv compiles a schema to code, and a schema that many
 * `$ref`s repeat (or a few `$ref`s to a large `const`) grows that code by hundreds of MiB. On the
 * API's thread the first would stop every other request and the second end the process. Here it
 * ends one child process, which is killed (that interrupts a running RegExp) or ended by V8 at its
 * heap cap, and the check it was running is answered as a problem naming the schema; the next check
 * gets a new child. A worker thread did this before, with V8's heap cap for threads: V8 cannot stop
 * a thread at that cap everywhere (inside a `JSON.stringify` it ended the whole process), while at
 * a process's own `--max-old-space-size` it ends that process only.
 *
 * One child per checker, forked on the first check that needs it and kept for the next ones;
 * checks wait their turn in a queue, and each gets SCHEMA_CHECK_TIMEOUT_MS of the child's CPU time
 * once it runs (read from /proc on Linux: a busy machine, which gives the child less of each second,
 * does not turn a schema that checks in 0.3 s into a refusal; elsewhere counted on the clock),
 * within SCHEMA_CHECK_WALL_FACTOR times that on the clock. The child never keeps the process alive
 * while no check waits (its handle, IPC channel and stderr pipe are unref'd), ends after
 * IDLE_CHILD_MS without a check (a Node process with Ajv loaded is 85-98 MiB resident, for an
 * admin's rare catalog edits), ends with its parent (its IPC channel closing; during a check that
 * keeps its thread busy, a thread of its own that watches the parent), and `close` ends it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { EventTypeSchemaProblem } from '../domain/event-type-schema.ts';
import { SCHEMA_MAX_KEYWORDS } from '../domain/schema-size.ts';
import { childCpuMicros } from './child-cpu-time.ts';

/**
 * How much CPU time one check (the schema against its meta-schema, then the example against the
 * schema) may take. Counted on the wall clock, checks that took 0.3 s on a quiet machine were refused
 * on a loaded one (a CI run with other work beside it: a flat schema of 2,000 properties, a `$ref`
 * cycle answered as too large instead of as a cycle).
 */
export const SCHEMA_CHECK_TIMEOUT_MS = 1_000;
/**
 * The wall-clock bound of a check, as a multiple of its CPU time: a child starved for that long is
 * ended too, and the check answered `busy` (the API's 503): the machine's state, not the input's.
 */
export const SCHEMA_CHECK_WALL_FACTOR = 10;
/**
 * How long a new child may take to start (Node, then Ajv loaded: ~0.3-1.5 s on a 2-core machine)
 * before it is ended and the check it was started for answered: a child that never says it is
 * ready would otherwise hold every check behind it.
 */
export const SCHEMA_CHILD_START_MS = 30_000;
/** How long the child is kept for the next check once none waits. */
export const IDLE_CHILD_MS = 30_000;
/**
 * The child's V8 old generation (`--max-old-space-size`), in MiB. Ajv compiles a schema to code,
 * and a schema that many `$ref`s repeat grows that code faster than the time limit stops it (one
 * took a process to 735 MiB uncapped); at the cap V8 ends the child, and the check's answer says
 * why. Every catalog in examples/catalogs/ and a flat schema of 2,000 properties check in a
 * fraction of it. The keyword cap (domain/schema-size.ts, counted in the child) still refuses most
 * such schemas before anything is compiled: answered in milliseconds of the child's CPU (a few
 * hundred for a 1 MiB body of `$ref`s) rather than after its whole second and a new child's start.
 */
export const SCHEMA_CHECK_HEAP_MB = 64;

/**
 * To the child: one check, `{schema, example}` as JSON text (exactly kept numbers stay digits), and
 * the most keywords a schema may have to be compiled (null: no limit; JSON has no Infinity).
 */
export interface ToSchemaChild {
  id: number;
  json: string;
  maxKeywords: number | null;
}

export type FromSchemaChild =
  | { type: 'ready'; watching?: boolean } // watching: its thread that ends it with its parent runs (a test's child has none)
  | { type: 'counted'; id: number } // its keywords are counted: what follows is compiling it
  | { type: 'compiled'; id: number } // the schema is compiled: what follows is the example's check
  | { type: 'checked'; id: number; problem: EventTypeSchemaProblem | null };

/**
 * A check's problem; `busy` when it says nothing of the input but of this server: the check did not
 * end within its wall-clock bound (the machine too busy to give it its CPU time), or its child
 * could not start. The API answers that one 503 with Retry-After, not 400: the same input may pass.
 */
export type SchemaCheckProblem = EventTypeSchemaProblem & { busy?: true };

export interface EventTypeSchemaChecker {
  /**
   * As `eventTypeSchemaProblem`, with a problem naming the schema when it has too many keywords to
   * compile (domain/schema-size.ts, counted in the child before it compiles anything), the check
   * takes too long or too much memory, or its child process ends for any other reason; and a
   * `busy` one when the server could not run the check (its wall bound passed, its child did not start).
   */
  check(schema: unknown, example: unknown): Promise<SchemaCheckProblem | null>;
  /** Whether its child process is up (started by a check, ended when idle, on a timeout, or by close). */
  childUp(): boolean;
  /** Ends the child process; checks still waiting are rejected. */
  close(): Promise<void>;
}

interface Check {
  id: number;
  json: string;
  resolve(problem: SchemaCheckProblem | null): void;
  reject(error: Error): void;
}

/** A child process, whether it has said it is ready, and the end of what it wrote to stderr. */
interface Child {
  proc: ChildProcess;
  ready: boolean;
  stderr: string;
  startTimer: NodeJS.Timeout;
}

/** What a check does in turn in the child, each step told by its message ('counted', 'compiled'). */
type Phase = 'counting' | 'compiling' | 'checking';

/** The check under way: its timer, how far it got, and the child's CPU time (µs) when it began. */
interface Running {
  check: Check;
  timer: NodeJS.Timeout;
  phase: Phase;
  cpuAtStart: Promise<number | null>;
  startedAt: number;
}

/**
 * Why counting a schema's keywords (domain/schema-size.ts) may take that long: hundreds of thousands
 * of subschemas (an `allOf` of 300,000 `{}`, 1 MiB, counts in 0.6-0.9 s of CPU on a loaded 2-core
 * machine). Before 2026-12-07 such a count was answered "compiling the schema took longer…",
 * though nothing had been compiled.
 */
export const WHY_COUNTING_SLOW =
  'it has too many subschemas to check; send one of fewer subschemas and $refs';
/** Why compiling a schema may take that long or that much memory, and what to send instead. */
export const WHY_COMPILING =
  'it is too large to check (a large schema that many $refs repeat?); send a smaller schema, or one whose $refs name smaller subschemas';
/**
 * Why checking an example may take that long. Which keyword took the time is not known (the child
 * is killed mid-check), so the likely causes are named, not one guess: a `pattern` backtracking on
 * one of the example's strings, or `uniqueItems` over a long array of objects or arrays (Ajv
 * compares each item with every other: 20,000 one-number arrays, 149 KB, take more than 1,000 ms).
 */
export const WHY_CHECKING_SLOW =
  "the likely causes are a pattern that backtracks on one of the example's strings, or uniqueItems over a long array of objects or arrays; change that pattern, or send an example with shorter strings or arrays";

/**
 * What each phase of a check is called in its answer, and why it may run out of time or memory
 * (with what to send instead): the answer names `body.schema` (the CLI, the entry's `.schema`).
 */
const PHASES: Record<Phase, { what: string; whySlow: string; whyMemory: string }> = {
  counting: {
    what: "counting the schema's keywords",
    whySlow: WHY_COUNTING_SLOW,
    whyMemory: 'it is too large to check; send a smaller schema',
  },
  compiling: { what: 'compiling the schema', whySlow: WHY_COMPILING, whyMemory: WHY_COMPILING },
  checking: {
    what: 'checking the example against the schema',
    whySlow: WHY_CHECKING_SLOW,
    whyMemory: 'the example is too large to check against this schema; send a smaller example',
  },
};

/** Whether a child's end was V8's at its heap cap: it prints this and aborts. */
const outOfMemory = (child: Child, signal: NodeJS.Signals | null, code: number | null) =>
  (signal === 'SIGABRT' || code === 134) && /heap limit|heap out of memory/i.test(child.stderr);

export function createEventTypeSchemaChecker({
  timeoutMs = SCHEMA_CHECK_TIMEOUT_MS,
  idleMs = IDLE_CHILD_MS,
  heapMb = SCHEMA_CHECK_HEAP_MB,
  maxKeywords = SCHEMA_MAX_KEYWORDS,
  childUrl = new URL('./event-type-schema-child.ts', import.meta.url),
  cpuMicros = childCpuMicros,
  wallMs = timeoutMs * SCHEMA_CHECK_WALL_FACTOR,
}: {
  timeoutMs?: number;
  idleMs?: number;
  heapMb?: number;
  /** Past this many keywords the child refuses a schema uncompiled (tests of the limits above count none). */
  maxKeywords?: number;
  /** The child's module (tests give one that answers as this one does). */
  childUrl?: URL;
  /** A child's CPU time in µs, null when it cannot be told (tests give the answer of a system without /proc). */
  cpuMicros?: (pid: number) => Promise<number | null>;
  /**
   * The wall-clock bound of a check (HERALD_SCHEMA_CHECK_WALL_MS); by default
   * SCHEMA_CHECK_WALL_FACTOR times `timeoutMs`.
   */
  wallMs?: number;
} = {}): EventTypeSchemaChecker {
  const queue: Check[] = [];
  let child: Child | null = null;
  let running: Running | null = null;
  let nextId = 1;
  let closed = false;
  let idleTimer: NodeJS.Timeout | null = null;
  const wallLimit = wallMs;

  /** Whether `c` may keep this process alive: while a check waits on it (a CLI must not exit under it). */
  const hold = (c: Child, yes: boolean) => {
    const handles = [c.proc, c.proc.channel, c.proc.stderr as unknown as { ref(): void; unref(): void }];
    for (const handle of handles) {
      if (yes) handle?.ref();
      else handle?.unref();
    }
  };

  /** `c` is gone for good: the check it ran (or, not yet ready, the first one waiting) is answered. */
  const ended = (c: Child, how: string, memory: boolean) => {
    if (c !== child) return;
    child = null;
    clearTimeout(c.startTimer);
    c.proc.kill('SIGKILL'); // a no-op once it has exited; ends it when only its channel failed
    const r = running;
    running = null;
    if (r) {
      clearTimeout(r.timer);
      const { what, whyMemory } = PHASES[r.phase];
      r.check.resolve({
        field: 'schema',
        message: memory
          ? `${what} took more than ${heapMb} MiB of memory: ${whyMemory}`
          : `${what} ended the schema check process (${how}): it was not checked; send it again, or a smaller schema if it ends so again`,
      });
    } else if (!c.ready && queue.length > 0) {
      // One check answered for each child that fails to start: never a loop of starts.
      (queue.shift() as Check).resolve({
        field: 'schema',
        message: `the schema check process did not start (${how}): send it again later`,
        busy: true,
      });
    }
    next();
  };

  const start = () => {
    const proc = fork(fileURLToPath(childUrl), [], {
      // Its own heap cap, and none of this process's flags (a test runner's among them). Node 24
      // strips the types of the .ts sources itself, as it does for bin/herald.js.
      execArgv: [`--max-old-space-size=${heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const c: Child = {
      proc,
      ready: false,
      stderr: '',
      startTimer: setTimeout(() => {
        if (!c.ready) ended(c, `not ready within ${SCHEMA_CHILD_START_MS} ms`, false);
      }, SCHEMA_CHILD_START_MS),
    };
    child = c;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (text: string) => {
      c.stderr = (c.stderr + text).slice(-4096);
    });
    proc.on('message', (message: FromSchemaChild) => {
      if (c !== child) return;
      if (message.type === 'ready') {
        c.ready = true;
        clearTimeout(c.startTimer);
      } else if (message.type === 'counted' || message.type === 'compiled') {
        if (running?.check.id === message.id)
          running.phase = message.type === 'counted' ? 'compiling' : 'checking';
        return;
      } else if (running?.check.id === message.id) {
        clearTimeout(running.timer);
        running.check.resolve(message.problem);
        running = null;
      }
      next();
    });
    proc.on('error', (error) => ended(c, error.message, false));
    // 'close' rather than 'exit': by then its stderr has been read, which tells a heap cap's end.
    proc.on('close', (code, signal) =>
      ended(c, signal ? `signal ${signal}` : `exit code ${code}`, outOfMemory(c, signal, code)),
    );
  };

  /** Runs the next waiting check, starting the child if needed; lets the process exit when idle. */
  const next = () => {
    if (closed) return;
    if (running) return;
    if (queue.length === 0) {
      const idle = child;
      if (idle) {
        hold(idle, false);
        if (idleTimer) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          idleTimer = null;
          if (child !== idle || running || queue.length) return;
          child = null;
          clearTimeout(idle.startTimer);
          idle.proc.kill();
        }, idleMs).unref();
      }
      return;
    }
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (!child) {
      try {
        start();
      } catch (error) {
        // fork itself threw (spawn's other failures come as 'error'): as a child that did not start.
        (queue.shift() as Check).resolve({
          field: 'schema',
          message: `the schema check process did not start (${(error as Error).message}): send it again later`,
          busy: true,
        });
        next();
        return;
      }
    }
    const c = child as Child;
    hold(c, true);
    if (!c.ready) return; // its 'ready' message calls next again
    const check = queue.shift() as Check;
    const pid = c.proc.pid as number;
    const cpuAtStart = cpuMicros(pid);
    // At each turn of the timer: ended once the check has had its CPU time (or the wall bound has
    // passed); otherwise armed again for the CPU time it has left.
    const due = async () => {
      if (running?.check !== check) return;
      const cpuNow = await cpuMicros(pid);
      const cpuThen = await cpuAtStart;
      if (running?.check !== check) return; // answered meanwhile
      const elapsed = performance.now() - running.startedAt;
      const used = cpuNow === null || cpuThen === null ? elapsed : (cpuNow - cpuThen) / 1_000;
      if (used < timeoutMs && elapsed < wallLimit) {
        running.timer = setTimeout(due, Math.min(timeoutMs - used, wallLimit - elapsed) + 1);
        return;
      }
      // Timers run before the channel is read: when this thread was held past the limit (a loaded
      // machine), the child's answer may be waiting unread. It is read first, and wins.
      await new Promise((resolve) => setImmediate(resolve));
      if (running?.check !== check) return;
      const { what, whySlow } = PHASES[running.phase];
      running = null;
      child = null;
      c.proc.kill('SIGKILL');
      check.resolve(
        used >= timeoutMs
          ? { field: 'schema', message: `${what} took longer than ${timeoutMs} ms: ${whySlow}` }
          : {
              field: 'schema',
              message: `${what} did not end within ${wallLimit} ms, this server being too busy to give it ${timeoutMs} ms: send it again later`,
              busy: true,
            },
      );
      next();
    };
    running = {
      check,
      timer: setTimeout(due, timeoutMs),
      phase: 'counting',
      cpuAtStart,
      startedAt: performance.now(),
    };
    // A channel that fails to send emits 'error' on the child, which answers this check.
    const max = Number.isFinite(maxKeywords) ? maxKeywords : null;
    c.proc.send({ id: check.id, json: check.json, maxKeywords: max } satisfies ToSchemaChild);
  };

  return {
    check(schema, example) {
      // No schema, or a boolean one, needs no child: answered here. Its module (which imports Ajv,
      // ~0.07 s of CPU) is loaded on this first answer, not at every start of the API.
      if (schema === null || schema === undefined || typeof schema === 'boolean') {
        return import('../domain/event-type-schema.ts').then((m) =>
          m.eventTypeSchemaProblem(schema, example),
        );
      }
      // Its keywords are counted in the child, within the check's time limit: on this thread the
      // count of a 1 MiB body of $refs held every other request for 0.3-3 s (bench/schema-count.ts).
      if (closed) return Promise.reject(new Error('the schema checker is closed'));
      return new Promise((resolve, reject) => {
        queue.push({ id: nextId++, json: JSON.stringify({ schema, example }), resolve, reject });
        next();
      });
    },
    childUp: () => child !== null,
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      const c = child;
      child = null;
      const checks = running ? [running.check, ...queue.splice(0)] : queue.splice(0);
      if (running) clearTimeout(running.timer);
      running = null;
      for (const check of checks) check.reject(new Error('the schema checker is closed'));
      if (!c) return;
      clearTimeout(c.startTimer);
      const { proc } = c;
      if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
      const exited = once(proc, 'exit');
      // An idle child is unref'd: its exit, awaited here, must hold the process until it comes
      // (otherwise a CLI whose last work is this await ends inside it, exit code 13).
      hold(c, true);
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
