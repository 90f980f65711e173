#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=200
// Entry point of `npx herald`. Node 24 runs the TypeScript sources directly (type stripping).
// --max-semi-space-size=8 (MiB): V8's young generation otherwise grows to 16 MiB semi-spaces under
// Herald's allocation rate, and resident memory with it (206 → 148 MiB filling 200,000 events with
// 4); V8 applies it to the dispatcher thread's isolate too. 8 rather than 4: +17 % closed-loop
// deliveries/s (8 of 8 interleaved pairs, GC helper threads 41 → 25 µs per delivery) for ~+18 MiB
// draining 1,000,000 pending (231.6 against 213.3 MiB; the goal is 244.1).
// --heap-growing-percent=200: the old generation may grow to 3x what survived the last full GC
// before the next one, where V8's own factor went up to 4x under load. Filling 1,000,000 pending
// deliveries the API process peaked at 192.5 MiB against 233.2, the draining worker at 212.4
// against 228.0; closed-loop throughput and GC time within noise over 6 interleaved pairs. A factor
// of 2 (=100) kept 172.5 / 186.9 MiB but cost ~5 % of closed-loop throughput in GC.
// MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that allocates (the dispatcher thread,
// libuv's pool, V8's helpers) malloc arenas of its own; two keep 10-20 MiB less resident with
// 200,000 pending (API filling 224-228 vs 235-248 MiB, worker draining 235-239 vs 245-257 MiB),
// throughput within noise. Ignored where the C library is not glibc.
// MALLOC_MMAP_THRESHOLD_=131072: glibc otherwise raises its mmap threshold each time it frees a
// large mmapped block (up to 32 MiB), after which large buffers come from the heap and stay
// resident; fixed at 128 KiB they are mapped and unmapped. Filling 1,000,000 pending the API
// process peaked at 221.4 and 223.5 MiB against 231.8-242.3 in five runs without (the goal is
// 244.1), the draining worker at 196 against 204-216; closed loop within noise (10,726, 10,363,
// 10,472 against 11,284, 10,346, 10,257/s in interleaved pairs). Ignored elsewhere, as above.

// Node 24 is needed (TypeScript sources, node:sqlite): an older one would fail on the first .ts
// import with ERR_UNKNOWN_FILE_EXTENSION, which does not say why.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(
    `herald: needs Node 24 or later, this is Node ${process.versions.node}. Run it through npm from the ` +
      'install directory (npx herald …, which uses the node devDependency), or install Node 24.\n',
  );
  process.exit(1);
}
// As process 1 (a container's command) a signal Node has no handler for is dropped, not fatal, and
// `herald serve` sets its handlers only once its modules have loaded (~0.5 s): a `docker stop` sent
// before then was lost, and the container ran on until the SIGKILL. Until a command handles the
// signal itself, it ends the process as it would anywhere else (128 + its number). Process 1 only:
// elsewhere the default, death by the signal, is what a shell expects of a child on Ctrl-C.
if (process.pid === 1) {
  const { constants } = await import('node:os');
  const beforeHandlers = (signal) => {
    if (process.listenerCount(signal) > 0) return; // the command's own handler takes it
    process.exit(128 + constants.signals[signal]);
  };
  process.once('SIGTERM', beforeHandlers);
  process.once('SIGINT', beforeHandlers);
}
// Node's compile cache keeps every module's type-stripped source and V8 code between runs (in the
// temporary directory, per user; NODE_COMPILE_CACHE puts it elsewhere, NODE_DISABLE_COMPILE_CACHE=1
// turns it off), so a start compiles only what changed: `herald --version` 0.65 → 0.33 s, `herald
// serve` ready 3.3 → 2.1 s (2-core machine, medians). Where it cannot be written Node goes on
// without it. Worker threads (the dispatcher's: ready 3.1 → 2.6 s with it) take it up from the
// environment.
const { enableCompileCache } = await import('node:module');
const compileCache = enableCompileCache();
if (compileCache.directory) process.env.NODE_COMPILE_CACHE = compileCache.directory;
// Drops node:sqlite's ExperimentalWarning (and only that one) before anything loads it.
await import('../src/quiet-sqlite-warning.ts');
await import('../src/cli/main.ts');
