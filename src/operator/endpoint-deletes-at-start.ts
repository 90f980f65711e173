/**
 * An endpoint DELETE removes the endpoint in its first write and closes its backlog (pending and
 * parked deliveries) a batch per write after it; a stop in between left the rest behind: nothing
 * sends it, but parked deliveries stayed parked for good, their events kept from retention, until
 * someone repeated the DELETE. Every start closes what such deletes left (Store.finishEndpointDeletes),
 * whatever the process's role: the API processes serve the deletes.
 */
import type { Store } from '../store/store.ts';
import { isStoreUnreachable } from '../store/store-unavailable.ts';

type Log = {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
};

/** Not awaited by the start (background-jobs.ts): a failure is one warn line, and the next start tries again. */
export async function finishEndpointDeletesAtStart(store: Store, log: Log): Promise<void> {
  try {
    const endpoints = await store.finishEndpointDeletes(Date.now());
    if (endpoints > 0) {
      log.info(
        { endpoints },
        `closed the pending and parked deliveries of ${endpoints} deleted endpoint${endpoints === 1 ? '' : 's'} whose delete was cut short by a stop`,
      );
    }
  } catch (error) {
    const fields = isStoreUnreachable(error) ? {} : { err: error };
    log.warn(
      fields,
      `could not close the deliveries left by endpoint deletes cut short by a stop${isStoreUnreachable(error) ? ': the database cannot be reached' : ''}; the next start tries again`,
    );
  }
}
