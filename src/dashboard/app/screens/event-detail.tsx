/** One event: payload, and its delivery to each endpoint with every attempt made. */
import { useCallback, useEffect, useRef } from 'preact/hooks';
import { useApp } from '../app-context.ts';
import { CodeBlock } from '../components/code-block.tsx';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { ErrorBanner, ListStopped, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { OutcomeBadge, StatusBadge } from '../components/status-badge.tsx';
import { useEndpointsById } from '../endpoint-names.ts';
import { formatDuration, formatTime } from '../format.ts';
import { useProject } from '../project-context.ts';
import { IN_FLIGHT_REFRESH_MS } from '../retry-block.ts';
import { useAsync } from '../use-async.ts';
import { useCappedList } from '../use-capped-list.ts';
import { useRefreshWhile } from '../use-refresh-while.ts';

export function EventDetail({ eventId }: { eventId: string }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const event = useAsync(() => client.getEvent(project.id, eventId), [client, project.id, eventId]);
  const attempts = useAsync(
    () => client.listEventAttempts(project.id, eventId),
    [client, project.id, eventId],
  );
  const attemptList = useCappedList(attempts.data, (cursor) =>
    client.listEventAttempts(project.id, eventId, cursor),
  );
  // The endpoints its deliveries and attempts name (read once per session each).
  const named = [
    ...(event.data?.deliveries ?? []).map((delivery) => delivery.endpointId),
    ...attemptList.items.map((attempt) => attempt.endpointId),
  ].filter((id): id is string => Boolean(id));
  const endpoints = useEndpointsById(client, project.id, named);
  const reloadEvent = event.reload;
  const reloadAttempts = attempts.reload;
  const reload = useCallback(() => {
    reloadEvent();
    reloadAttempts();
  }, [reloadEvent, reloadAttempts]);
  // A delivery being sent offers no Retry until its attempt is recorded: the event is read again
  // till then, and its attempts once (each read of them starts their list over).
  const sending = (event.data?.deliveries ?? []).some((delivery) => delivery.inFlight);
  useRefreshWhile(sending, reloadEvent, IN_FLIGHT_REFRESH_MS, event.data);
  const wasSending = useRef(false);
  useEffect(() => {
    if (wasSending.current && !sending) reloadAttempts();
    wasSending.current = sending;
  }, [sending, reloadAttempts]);

  if (!event.data) {
    return (
      <div>
        <p>
          <Link to={`${base}/events`}>← All events</Link>
        </p>
        <ErrorBanner error={event.error} onRetry={event.reload} />
        {event.loading && <Loading label="Loading event…" />}
      </div>
    );
  }
  const e = event.data;
  return (
    <article aria-labelledby="event-title">
      <p>
        <Link to={`${base}/events`}>← All events</Link>
      </p>
      <div class="section-head">
        <h2 id="event-title">
          <code>{e.type}</code> {e.test && <StatusBadge status="test" label="test" />}
        </h2>
        <button type="button" onClick={reload} disabled={event.loading}>
          {event.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <dl class="facts">
        <div>
          <dt>Received</dt>
          <dd>{formatTime(e.createdAt)}</dd>
        </div>
        <div>
          <dt>Event id</dt>
          <dd>
            <code>{e.id}</code>
          </dd>
        </div>
      </dl>
      <h3>Deliveries</h3>
      <DeliveriesTable
        deliveries={e.deliveries ?? []}
        endpoints={endpoints.data ?? new Map()}
        onRetried={reload}
        onDeliveryStale={reload}
        onEndpointStale={endpoints.reload}
      />
      <h3>Attempts</h3>
      <ErrorBanner error={attempts.error} onRetry={attempts.reload} />
      {attempts.data && attemptList.items.length === 0 && <p class="muted">No attempts yet.</p>}
      {attemptList.items.length > 0 && (
        <ul class="attempt-list">
          {attemptList.items.map((attempt) => (
            <li key={attempt.id} class="attempt-item">
              <OutcomeBadge
                outcome={attempt.outcome}
                status={attempt.response?.status}
                errorKind={attempt.error?.kind}
              />{' '}
              {attempt.endpointId ? (
                <Link
                  to={`${base}/endpoints/${encodeURIComponent(attempt.endpointId)}/attempts/${encodeURIComponent(attempt.id)}`}
                >
                  Attempt #{attempt.number} to{' '}
                  {endpoints.data?.get(attempt.endpointId)?.name || attempt.request.url}
                </Link>
              ) : (
                <span>
                  Attempt #{attempt.number} to <code>{attempt.request.url}</code>
                </span>
              )}{' '}
              <span class="muted small">
                {formatTime(attempt.startedAt)} · {formatDuration(attempt.durationMs)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {attemptList.cursor && (
        <ListStopped
          shown={attemptList.items.length}
          noun="attempts"
          which="newest"
          busy={attemptList.busy}
          error={attemptList.error}
          onMore={attemptList.more}
        />
      )}
      <CodeBlock label="Payload" text={JSON.stringify(e.payload, null, 2)} />
    </article>
  );
}
