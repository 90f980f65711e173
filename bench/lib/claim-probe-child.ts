/**
 * The claim probe's process: opens the store the way Herald does, times ROUNDS claims of LIMIT
 * deliveries (what the dispatcher asks for by default), releases them, reports over IPC.
 * Args: DATABASE_URL DATA_DIR
 */
import { openStore } from '../../src/store/open-store.ts';
import { median, round } from './stats.ts';

const ROUNDS = 10;
const LIMIT = 256;
const WORKER = 'bench-claim-probe';

const [databaseUrl, dataDir] = process.argv.slice(2);
try {
  const store = await openStore(databaseUrl!, { dataDir: dataDir!, encryptionKey: null });
  const times: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      await store.claimDueDeliveries({ limit: LIMIT, leaseMs: 60_000, now: Date.now(), workerId: WORKER });
      times.push(performance.now() - t);
    }
    await store.releaseClaims(WORKER, Date.now());
  } finally {
    await store.close();
  }
  const p50Ms = round(median(times), 2);
  const maxMs = round(Math.max(...times), 2);
  process.send?.({ type: 'probe', rounds: ROUNDS, limit: LIMIT, p50Ms, maxMs }, () => process.exit(0));
} catch (error) {
  process.send?.({ type: 'probe', error: (error as Error).message }, () => process.exit(0));
}
