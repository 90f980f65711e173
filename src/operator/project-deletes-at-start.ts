/**
 * A project DELETE marks the project deleting and removes its keys and endpoints in its first write,
 * closes its pending callbacks and deletes its history in steps after it, and the project row in its
 * last; a stop in between left the rest. The project is neither found nor listed from the first
 * write on, so no one can repeat the DELETE: every start finishes such deletes
 * (Store.finishProjectDeletes), whatever the process's role, as endpoint deletes are
 * (endpoint-deletes-at-start.ts): the API processes serve the deletes.
 */
import type { Store } from '../store/store.ts';
import { isStoreUnreachable } from '../store/store-unavailable.ts';

type Log = {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
};

/** Not awaited by the start (background-jobs.ts): a failure is one warn line, and the next start tries again. */
export async function finishProjectDeletesAtStart(store: Store, log: Log): Promise<void> {
  try {
    const projects = await store.finishProjectDeletes();
    if (projects > 0) {
      log.info(
        { projects },
        `finished the delete of ${projects} project${projects === 1 ? '' : 's'} whose delete was cut short by a stop`,
      );
    }
  } catch (error) {
    const fields = isStoreUnreachable(error) ? {} : { err: error };
    log.warn(
      fields,
      `could not finish the project deletes cut short by a stop${isStoreUnreachable(error) ? ': the database cannot be reached' : ''}; the next start tries again`,
    );
  }
}
