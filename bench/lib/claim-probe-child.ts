/**
 * The claim probe's process: opens the store the way Herald does, times ROUNDS claims of LIMIT
 * deliveries (what the dispatcher asks for by default), releases them, then ROUNDS claims that leave
 * LEFT_OUT out (as the dispatcher leaves out an endpoint it is saturated on), releases those too,
 * and reports over IPC. Args: DATABASE_URL DATA_DIR [LEFT_OUT endpoint id]
 */
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimOptions } from '../../src/store/store-types.ts';
import { median, round } from './stats.ts';

const ROUNDS = 10;
const LIMIT = 256;
const WORKER = 'bench-claim-probe';

const [databaseUrl, dataDir, leftOut] = process.argv.slice(2);
try {
  const store = await openStore(databaseUrl!, { dataDir: dataDir!, encryptionKey: null });
  const series = async (extra: Partial<ClaimOptions>) => {
    const times: number[] = [];
    let claimed = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      const got = await store.claimDueDeliveries({
        limit: LIMIT,
        leaseMs: 60_000,
        now: Date.now(),
        workerId: WORKER,
        ...extra,
      });
      times.push(performance.now() - t);
      claimed += got.length;
    }
    await store.releaseClaims(WORKER, Date.now());
    return { p50Ms: round(median(times), 2), maxMs: round(Math.max(...times), 2), claimed };
  };
  let all: Awaited<ReturnType<typeof series>>;
  let leaving: Awaited<ReturnType<typeof series>> | undefined;
  try {
    all = await series({});
    if (leftOut) leaving = await series({ excludeEndpointIds: [leftOut] });
  } finally {
    await store.close();
  }
  process.send?.(
    {
      type: 'probe',
      rounds: ROUNDS,
      limit: LIMIT,
      p50Ms: all.p50Ms,
      maxMs: all.maxMs,
      ...(leaving ? { leavingOut: leaving } : {}),
    },
    () => process.exit(0),
  );
} catch (error) {
  process.send?.({ type: 'probe', error: (error as Error).message }, () => process.exit(0));
}
