#!/usr/bin/env node
// Entry point of `npx herald`. Node 24 runs the TypeScript sources directly (type stripping).

// node:sqlite prints an ExperimentalWarning on first use; it says nothing an operator can act on.
// Only that one warning is dropped: every other warning, experimental or not, still reaches stderr.
const emitWarning = process.emitWarning;
process.emitWarning = function emitWarningExceptSqlite(warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  const name = warning instanceof Error ? warning.name : type;
  const message = warning instanceof Error ? warning.message : String(warning);
  if (name === 'ExperimentalWarning' && /\bSQLite\b/.test(message)) return;
  return emitWarning.call(process, warning, ...rest);
};

await import('../src/cli/main.ts');
