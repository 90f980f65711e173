/**
 * Times `claimDueDeliveries` directly on a Herald database while no Herald process runs, so the
 * claim's own cost is seen at a given backlog. Runs in a process of its own (claim-probe-child.ts):
 * Herald's store code stays out of the benchmark's process. The claims are handed back afterwards.
 * `leaveOut`: an endpoint the second series of claims leaves out, as the dispatcher leaves out one
 * it is saturated on (the backlog's own: those claims must find the other work behind it).
 */
import { join } from 'node:path';
import { forkProgram, nextMessage } from './child.ts';
import type { ClaimProbe } from './results.ts';

export async function probeClaims(
  databaseUrl: string,
  dataDir: string,
  backlog: number,
  leaveOut?: string,
): Promise<ClaimProbe> {
  const child = forkProgram(join(import.meta.dirname, 'claim-probe-child.ts'), [
    databaseUrl,
    dataDir,
    ...(leaveOut ? [leaveOut] : []),
  ]);
  const result = await nextMessage<{
    type: 'probe';
    error?: string;
    p50Ms: number;
    maxMs: number;
    rounds: number;
    limit: number;
    leavingOut?: ClaimProbe['leavingOut'];
  }>(child, 'probe');
  if (result.error) throw new Error(result.error);
  const { rounds, limit, p50Ms, maxMs, leavingOut } = result;
  return { backlog, rounds, limit, p50Ms, maxMs, ...(leavingOut ? { leavingOut } : {}) };
}
