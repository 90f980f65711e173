/**
 * Endpoints stored before the API refused their signature settings (a GET with a scheme that signs
 * only the empty body, a signature header the connection owns such as `Connection`) still deliver
 * as they are: changing them on the operator's behalf would break their receivers without a word.
 * At start, a delivering process looks through every endpoint once and logs each such endpoint
 * with what is wrong and what to change, so the operator (or the customer) can PATCH it.
 */
import { signatureConfigProblem } from '@herald/verify';
import { counted } from '../domain/counted.ts';
import type { Endpoint } from '../domain/types.ts';
import { allPages } from '../store/all-pages.ts';
import type { Store } from '../store/store.ts';
import { isStoreUnreachable } from '../store/store-unavailable.ts';

/** Endpoints named one per log line at most; a count says how many more. */
export const AUDIT_LINES_MAX = 20;

/** What the API would refuse in `endpoint`'s signature settings today, or null. */
export function refusedSettings(endpoint: Pick<Endpoint, 'signature' | 'method'>): string | null {
  return signatureConfigProblem(endpoint.signature, endpoint.method);
}

/** Looks through every endpoint of every project; resolves with how many were logged as refused. */
export async function auditEndpointSettings(
  store: Store,
  log: { warn(fields: object, message: string): void },
): Promise<number> {
  let found = 0;
  for await (const project of allPages((cursor) => store.listProjects({ limit: 1000, cursor }))) {
    for await (const endpoint of allPages((cursor) =>
      store.listEndpoints(project.id, { limit: 1000, cursor }),
    )) {
      const problem = refusedSettings(endpoint);
      if (problem === null) continue;
      found++;
      if (found > AUDIT_LINES_MAX) continue;
      log.warn(
        { projectId: project.id, endpointId: endpoint.id },
        `endpoint ${endpoint.id} of project ${project.id} has signature settings the API now refuses: ${problem}. It still delivers as it is; change its signature or method (PATCH …/endpoints/${endpoint.id})`,
      );
    }
  }
  if (found > AUDIT_LINES_MAX) {
    log.warn(
      { endpoints: found },
      `${counted(found - AUDIT_LINES_MAX, 'more endpoints')} ${found - AUDIT_LINES_MAX === 1 ? 'has' : 'have'} signature settings the API now refuses`,
    );
  }
  return found;
}

/**
 * The look at start, not awaited by it (background-jobs.ts): a failure is one warn line. A database
 * that cannot be reached (PostgreSQL down at start, or stopped while the look pages through the
 * endpoints) is said without the error's stack, as every other loop says an outage
 * (store-error-log.ts); the look runs again at the next start. Any other failure keeps its stack.
 */
export async function auditEndpointSettingsAtStart(
  store: Store,
  log: { warn(fields: object, message: string): void },
): Promise<void> {
  try {
    await auditEndpointSettings(store, log);
  } catch (error) {
    if (isStoreUnreachable(error)) {
      const { code } = error as { code?: unknown };
      log.warn(
        typeof code === 'string' ? { code } : {},
        'could not look through the endpoints for refused settings: the database cannot be reached; the look runs again at the next start',
      );
      return;
    }
    log.warn({ err: error }, 'could not look through the endpoints for refused settings');
  }
}
