/**
 * The child process that checks event-type schemas and examples (event-type-schema-check.ts forks
 * it, with a V8 heap cap of its own): a check that runs without end here (a `pattern` backtracking
 * on the example) or fills the heap (V8 then ends this process) ends only this process, never the
 * one that forked it. Checks arrive one at a time over the IPC channel, as JSON text; each schema's
 * keywords are counted (domain/schema-size.ts) before it is compiled, here too: that count of a
 * large body takes long enough to keep off the thread that answers requests.
 */
import { Worker } from 'node:worker_threads';
import { eventTypeSchemaProblem } from '../domain/event-type-schema.ts';
import { schemaSizeProblem } from '../domain/schema-size.ts';
import type { FromSchemaChild, ToSchemaChild } from './event-type-schema-check.ts';

const send = process.send?.bind(process);
if (!send) throw new Error('event-type-schema-child.ts runs as a forked child process');
const post = (message: FromSchemaChild) => send(message);
/** How often the watch below looks whether the parent is still this process's parent. */
const ORPHAN_WATCH_MS = 500;
/**
 * The watch's thread: ends this whole process (not only the thread) once its parent has changed,
 * and says when it is watching.
 */
const ORPHAN_WATCH = `
  const { parentPort, workerData } = require('node:worker_threads');
  setInterval(() => {
    if (process.ppid !== workerData.parent) process.kill(process.pid, 'SIGKILL');
  }, ${ORPHAN_WATCH_MS});
  parentPort.postMessage('watching');
`;

process.on('message', ({ id, json, maxKeywords }: ToSchemaChild) => {
  const { schema, example } = JSON.parse(json) as { schema?: unknown; example?: unknown };
  // Sized before it is compiled, within the check's time limit: one too large to compile within the
  // heap cap is refused in milliseconds, where compiling it takes the whole limit or heap.
  const tooLarge = maxKeywords === null ? null : schemaSizeProblem(schema, maxKeywords);
  // What runs past the time limit from here on is compiling, not the count.
  post({ type: 'counted', id });
  const problem = tooLarge
    ? { field: 'schema' as const, message: tooLarge }
    : eventTypeSchemaProblem(schema, example, () => post({ type: 'compiled', id }));
  post({ type: 'checked', id, problem });
});
// Ajv's instances and the 2020-12 meta-schema made before the first check, not within its time.
eventTypeSchemaProblem({ type: 'integer' }, 1);
// The parent gone (ended, crashed, or closed the channel): nothing more will come.
process.on('disconnect', () => process.exit(0));
// The same while a check runs without end (a pattern backtracking for hours): this thread, busy with
// it, never sees the disconnect, and the parent that would have killed it at the time limit is gone
// (SIGKILLed, crashed). A thread of its own notices the parent gone (this process handed to another)
// and ends the process; before, such a child ran on at full CPU, orphaned, until the check ended.
// A thread that cannot start (a process limit reached: thrown, or its 'error') leaves the child
// checking as before. Ready only once the thread watches: starting it takes 100-180 ms of this
// process's CPU (load 12 on 2 cores), which, still under way when the first check came, was counted
// against that check's time limit (before 2026-12-07, a fresh child's first check had that much less).
const watching = await new Promise<boolean>((resolve) => {
  try {
    const watch = new Worker(ORPHAN_WATCH, { eval: true, workerData: { parent: process.ppid } });
    watch.once('message', () => resolve(true));
    watch.on('error', () => resolve(false));
    watch.once('exit', () => resolve(false));
    watch.unref();
  } catch {
    resolve(false);
  }
});
post({ type: 'ready', watching });
