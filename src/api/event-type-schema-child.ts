/**
 * The child process that checks event-type schemas and examples (event-type-schema-check.ts forks
 * it, with a V8 heap cap of its own): a check that runs without end here (a `pattern` backtracking
 * on the example) or fills the heap (V8 then ends this process) ends only this process, never the
 * one that forked it. Checks arrive one at a time over the IPC channel, as JSON text; each schema's
 * keywords are counted (domain/schema-size.ts) before it is compiled, here too: that count of a
 * large body takes long enough to keep off the thread that answers requests.
 */
import { eventTypeSchemaProblem } from '../domain/event-type-schema.ts';
import { schemaSizeProblem } from '../domain/schema-size.ts';
import type { FromSchemaChild, ToSchemaChild } from './event-type-schema-check.ts';

const send = process.send?.bind(process);
if (!send) throw new Error('event-type-schema-child.ts runs as a forked child process');
const post = (message: FromSchemaChild) => send(message);

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
post({ type: 'ready' });
