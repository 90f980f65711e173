#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// Entry point of `npx herald`. Node 24 runs the TypeScript sources directly (type stripping).
// --max-semi-space-size=4 (MiB): V8's young generation otherwise grows to 16 MiB semi-spaces under
// Herald's allocation rate, and resident memory with it (206 → 148 MiB filling 200,000 events,
// throughput within noise); V8 applies it to the dispatcher thread's isolate too.
// MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that allocates (the dispatcher thread,
// libuv's pool, V8's helpers) malloc arenas of its own; two keep 10-20 MiB less resident with
// 200,000 pending (API filling 224-228 vs 235-248 MiB, worker draining 235-239 vs 245-257 MiB),
// throughput within noise. Ignored where the C library is not glibc.

// Drops node:sqlite's ExperimentalWarning (and only that one) before anything loads it.
await import('../src/quiet-sqlite-warning.ts');
await import('../src/cli/main.ts');
