import type { Config } from '../../config/config-types.ts';
import type { Handoff } from '../../delivery/handoff.ts';
import type { Store } from '../../store/store.ts';
import type { AcceptRecorder } from '../accept-events.ts';
import type { BacklogGate } from '../backlog-gate.ts';

/** What every route module receives. */
export interface RouteContext {
  store: Store;
  config: Config;
  /** Tells an in-process dispatcher that work became due (the store wakes it too; this is cheap). */
  wake: () => void;
  /** The in-process dispatcher's hand-off (src/delivery/handoff.ts), if it has one. */
  handoff: () => Handoff | null;
  /** Intake backpressure (a project's backlogLimit, else HERALD_PROJECT_BACKLOG_LIMIT); null: none at all (tests). */
  backlog: BacklogGate | null;
  /** Counts what the events API accepted (herald_events_accepted_total …); null: no metrics. */
  accepted: AcceptRecorder | null;
}
