/**
 * The thread that checks event-type schemas and examples (event-type-schema-check.ts starts it):
 * a check that runs without end here (a `pattern` backtracking on the example) blocks only this
 * thread, which the main thread terminates. Checks arrive one at a time, as JSON text.
 */
import { parentPort } from 'node:worker_threads';
import { eventTypeSchemaProblem } from '../domain/event-type-schema.ts';
import type { FromSchemaThread, ToSchemaThread } from './event-type-schema-check.ts';

const port = parentPort;
if (!port) throw new Error('event-type-schema-thread.ts runs as a worker thread');
const post = (message: FromSchemaThread) => port.postMessage(message);

port.on('message', ({ id, json }: ToSchemaThread) => {
  const { schema, example } = JSON.parse(json) as { schema?: unknown; example?: unknown };
  const problem = eventTypeSchemaProblem(schema, example, () => post({ type: 'compiled', id }));
  post({ type: 'checked', id, problem });
});
post({ type: 'ready' });
