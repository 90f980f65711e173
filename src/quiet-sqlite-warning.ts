/**
 * node:sqlite prints an ExperimentalWarning on first use; it says nothing an operator can act on.
 * Imported for its effect, before anything loads node:sqlite (which happens when a module graph
 * that imports it is linked), by bin/herald.js and by the dispatcher thread's entry (a worker
 * thread has a `process.emitWarning` of its own). Only that one warning
 * is dropped: every other warning, experimental or not, still reaches stderr.
 */
const emitWarning = process.emitWarning;
process.emitWarning = function emitWarningExceptSqlite(
  this: NodeJS.Process,
  warning: string | Error,
  ...rest: unknown[]
): void {
  const first = rest[0] as string | { type?: string } | undefined;
  const type = typeof first === 'string' ? first : first?.type;
  const name = warning instanceof Error ? warning.name : type;
  const message = warning instanceof Error ? warning.message : String(warning);
  if (name === 'ExperimentalWarning' && /\bSQLite\b/.test(message)) return;
  (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
} as typeof process.emitWarning;
