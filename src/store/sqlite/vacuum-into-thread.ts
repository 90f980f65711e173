/**
 * The worker thread of vacuum-into.ts: drops node:sqlite's ExperimentalWarning first (a worker
 * thread has a process.emitWarning of its own), then runs the copy. A dynamic import, because
 * built-in modules such as node:sqlite are loaded when a module graph is linked, before any of its
 * modules runs (as dispatcher-thread-entry.ts does).
 */
import '../../quiet-sqlite-warning.ts';

await import('./vacuum-into-copy.ts');
