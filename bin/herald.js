#!/usr/bin/env node
// Entry point of `npx herald`. Node 24 runs the TypeScript sources directly (type stripping).

// Drops node:sqlite's ExperimentalWarning (and only that one) before anything loads it.
await import('../src/quiet-sqlite-warning.ts');
await import('../src/cli/main.ts');
