/**
 * The endpoint overview's "Disabled and enabled" card: when and why the endpoint was disabled, and
 * when it was enabled again, from the endpoint's operational events (endpoint.disabled,
 * endpoint.recovered; the API's `?endpoint`), newest first. The operator and the customer portal
 * both read them.
 */

import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { ErrorBanner, Loading } from '../components/feedback.tsx';
import { formatTime } from '../format.ts';
import { useProject } from '../project-context.ts';
import { statusChangeText } from '../status-change-text.ts';
import { useAsync } from '../use-async.ts';
import { useCappedList } from '../use-capped-list.ts';

export function StatusChanges({ endpoint }: { endpoint: Endpoint }) {
  const { client } = useApp();
  const { project } = useProject();
  const first = useAsync(
    () => client.listEndpointStatusChanges(project.id, endpoint.id),
    // A disable or an enable seen by the page (its own, or the state it reads every few seconds) adds one.
    [client, project.id, endpoint.id, endpoint.status, endpoint.disabledAt],
  );
  const list = useCappedList(
    first.data,
    (cursor) => client.listEndpointStatusChanges(project.id, endpoint.id, cursor),
    (op) => op.id,
  );
  return (
    <section class="card" aria-labelledby="status-changes-title">
      <h3 id="status-changes-title">Disabled and enabled</h3>
      <ErrorBanner error={first.error} onRetry={first.reload} />
      {first.loading && !first.data && <Loading label="Loading disables and enables…" />}
      {first.data && list.items.length === 0 && (
        <p class="muted">
          {list.cursor
            ? "None among the project's recent operational events: older ones are left to look through."
            : 'None recorded: it was never disabled, or not within the time Herald keeps them.'}
        </p>
      )}
      {list.items.length > 0 && (
        <ul class="status-changes" ref={list.rowsRef}>
          {list.items.map((op) => (
            <li key={op.id}>
              <time dateTime={op.createdAt}>{formatTime(op.createdAt)}</time>{' '}
              <span class={op.type === 'endpoint.disabled' ? 'rate-bad' : 'rate-ok'}>
                {statusChangeText(op)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {list.cursor && (
        <div class="list-stopped">
          <ErrorBanner error={list.error} onRetry={list.more} />
          <button type="button" onClick={list.more} disabled={list.busy}>
            {list.busy ? 'Loading…' : 'Look further back'}
          </button>
        </div>
      )}
    </section>
  );
}
