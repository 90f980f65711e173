#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of `npx herald`. Node 24 runs the TypeScript sources directly (type stripping).
// --max-semi-space-size=4 (MiB): V8's young generation otherwise grows to 16 MiB semi-spaces under
// Herald's allocation rate, and resident memory with it (206 → 148 MiB filling 200,000 events,
// throughput within noise); the dispatcher thread gets the same through `resourceLimits`.

// Drops node:sqlite's ExperimentalWarning (and only that one) before anything loads it.
await import('../src/quiet-sqlite-warning.ts');
await import('../src/cli/main.ts');
