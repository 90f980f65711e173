/** One event: payload, and its delivery to each endpoint with every attempt made. */
import { useCallback, useEffect, useRef } from 'preact/hooks';
import { EVENT_DELIVERIES_PAGE } from '../api/client.ts';
import { useApp } from '../app-context.ts';
import { CodeBlock } from '../components/code-block.tsx';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { ErrorBanner, ListStopped, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { OutcomeBadge, StatusBadge } from '../components/status-badge.tsx';
import { useEndpointsById } from '../endpoint-names.ts';
import { formatDuration, formatTime } from '../format.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { IN_FLIGHT_REFRESH_MS } from '../retry-block.ts';
import { useAsync } from '../use-async.ts';
import { useCappedList } from '../use-capped-list.ts';
import { useRefreshWhile } from '../use-refresh-while.ts';

export function EventDetail({ eventId }: { eventId: string }) {
  const { client } = useApp();
  const { project, base } = useProject();
  // Read once, for what it says of itself: its deliveries are read a page at a time below (an
  // event may have fanned out to 100,000 endpoints), and only they change.
  const event = useAsync(() => client.getEvent(project.id, eventId), [client, project.id, eventId]);
  usePageTitle([event.data ? `Event ${event.data.type}` : 'Event', project.name]);
  // How many deliveries the page shows: a re-read reads those again, and no more.
  const shown = useRef({ eventId, count: EVENT_DELIVERIES_PAGE });
  const deliveries = useAsync(
    () =>
      client.listEventDeliveries(project.id, eventId, {
        upTo: shown.current.eventId === eventId ? shown.current.count : EVENT_DELIVERIES_PAGE,
      }),
    [client, project.id, eventId],
  );
  const deliveryList = useCappedList(deliveries.data, (cursor) =>
    client.listEventDeliveries(project.id, eventId, { cursor }),
  );
  if (deliveryList.items[0]?.eventId === eventId) {
    shown.current = { eventId, count: Math.max(EVENT_DELIVERIES_PAGE, deliveryList.items.length) };
  }
  const attempts = useAsync(
    () => client.listEventAttempts(project.id, eventId),
    [client, project.id, eventId],
  );
  const attemptList = useCappedList(attempts.data, (cursor) =>
    client.listEventAttempts(project.id, eventId, cursor),
  );
  // The endpoints its deliveries and attempts name (read once per session each).
  const named = [
    ...deliveryList.items.map((delivery) => delivery.endpointId),
    ...attemptList.items.map((attempt) => attempt.endpointId),
  ].filter((id): id is string => Boolean(id));
  const endpoints = useEndpointsById(client, project.id, named);
  const reloadDeliveries = deliveries.reload;
  const reloadAttempts = attempts.reload;
  const reload = useCallback(() => {
    reloadDeliveries();
    reloadAttempts();
  }, [reloadDeliveries, reloadAttempts]);
  // A delivery being sent offers no Retry until its attempt is recorded: the deliveries shown are
  // read again till then (not the whole event), and the attempts once (each read of them starts
  // their list over).
  const sending = deliveryList.items.some((delivery) => delivery.inFlight);
  useRefreshWhile(sending, reloadDeliveries, IN_FLIGHT_REFRESH_MS, deliveries.data);
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
        <button type="button" onClick={reload} disabled={deliveries.loading}>
          {deliveries.loading ? 'Refreshing…' : 'Refresh'}
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
      <ErrorBanner error={deliveries.error} onRetry={deliveries.reload} />
      {!deliveries.data && deliveries.loading && <Loading label="Loading deliveries…" />}
      {deliveries.data && (
        <DeliveriesTable
          deliveries={deliveryList.items}
          rowsRef={deliveryList.rowsRef}
          endpoints={endpoints.data ?? new Map()}
          onRetried={reload}
          onDeliveryStale={reload}
          onEndpointStale={endpoints.reload}
        />
      )}
      {deliveryList.cursor && (
        <ListStopped
          shown={deliveryList.items.length}
          noun="deliveries"
          busy={deliveryList.busy}
          error={deliveryList.error}
          onMore={deliveryList.more}
        />
      )}
      <h3>Attempts</h3>
      <ErrorBanner error={attempts.error} onRetry={attempts.reload} />
      {attempts.data && attemptList.items.length === 0 && <p class="muted">No attempts yet.</p>}
      {attemptList.items.length > 0 && (
        <ul class="attempt-list" ref={attemptList.rowsRef}>
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
                  <bdi>{endpoints.data?.get(attempt.endpointId)?.name || attempt.request.url}</bdi>
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
