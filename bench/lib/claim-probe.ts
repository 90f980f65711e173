/**
 * Times `claimDueDeliveries` directly on a Herald database while no Herald process runs, so the
 * claim's own cost is seen at a given backlog. Runs in a process of its own (claim-probe-child.ts):
 * Herald's store code stays out of the benchmark's process. The claims are handed back afterwards.
 */
import { join } from 'node:path';
import { forkProgram, nextMessage } from './child.ts';
import type { ClaimProbe } from './results.ts';

export async function probeClaims(
  databaseUrl: string,
  dataDir: string,
  backlog: number,
): Promise<ClaimProbe> {
  const child = forkProgram(join(import.meta.dirname, 'claim-probe-child.ts'), [databaseUrl, dataDir]);
  const result = await nextMessage<{
    type: 'probe';
    error?: string;
    p50Ms: number;
    maxMs: number;
    rounds: number;
    limit: number;
  }>(child, 'probe');
  if (result.error) throw new Error(result.error);
  return { backlog, rounds: result.rounds, limit: result.limit, p50Ms: result.p50Ms, maxMs: result.maxMs };
}
