/**
 * The worker thread's entry: drops node:sqlite's ExperimentalWarning first, then loads the
 * dispatcher thread. A dynamic import, because built-in modules such as node:sqlite are loaded when
 * a module graph is linked, before any of its modules runs.
 */
import '../quiet-sqlite-warning.ts';

await import('./dispatcher-thread.ts');
