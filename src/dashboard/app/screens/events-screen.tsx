/** Events log: what the platform sent for this project, newest first, with each event's delivery status. */
import { useMemo, useState } from 'preact/hooks';
import type { Endpoint, HeraldEvent } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/feedback.tsx';
import { TimeRangeFields, TypeFilterField } from '../components/fields.tsx';
import { Link } from '../components/link.tsx';
import { RelativeTime } from '../components/relative-time.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TableScroll } from '../components/table-scroll.tsx';
import { useEndpointsById } from '../endpoint-names.ts';
import { filterErrors } from '../filter-errors.ts';
import type { FirstDeliveries } from '../first-deliveries.ts';
import { shortUrl } from '../format.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { navigate, useLocation } from '../router.ts';
import { useAsync } from '../use-async.ts';
import { useCatalog } from '../use-catalog.ts';
import { useEventDeliveries } from '../use-event-deliveries.ts';

/**
 * Delivery badges shown per event, and all of its deliveries the list reads. "+3 more" (a link to
 * the event's page) says how many others there are, by the event's deliveryCount; "+ more" only
 * that there are others, for an event stored before Herald counted them.
 */
const BADGES = 4;

export function EventsScreen() {
  const { client } = useApp();
  const { project, base } = useProject();
  usePageTitle(['Events', project.name]);
  const { query, path } = useLocation();
  const catalog = useCatalog();
  const filter = {
    type: query.get('type') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
    key: query.get('key') ?? '',
  };
  const key = JSON.stringify(filter);
  const first = useAsync(
    async () => ({ key, page: await client.listEvents(project.id, filter) }),
    [client, project.id, key],
  );
  // An error about a filter shows by it. The events read for other filters are not these filters':
  // they are not shown while these load, nor after their read failed (a server error, a server
  // gone), when they stayed on screen by the error as if they matched.
  const misfit = filterErrors(first.error);
  const loaded = !misfit && first.data?.key === key ? first.data.page : undefined;
  const [more, setMore] = useState<{ key: string; items: HeraldEvent[]; cursor: string | null } | null>(null);
  const [moreState, setMoreState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const extra = more?.key === key ? more : null;
  // One array per load, not per render: the deliveries hook refetches when it changes.
  const events = useMemo(() => [...(loaded?.data ?? []), ...(extra?.items ?? [])], [loaded, extra]);
  const cursor = extra ? extra.cursor : (loaded?.nextCursor ?? null);
  const deliveries = useEventDeliveries(client, project.id, events, BADGES);
  // The endpoints the badges name (read once per session each, not the project's whole list).
  const named = events.flatMap((event) =>
    (deliveries.get(event.id)?.first ?? []).flatMap((delivery) =>
      delivery.endpointId ? [delivery.endpointId] : [],
    ),
  );
  const endpoints = useEndpointsById(client, project.id, named);
  const typeNames = (catalog.data ?? []).map((t) => t.name);

  function setFilter(patch: Partial<typeof filter>) {
    const next = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...filter, ...patch })) if (value) next.set(name, value);
    const search = next.toString();
    navigate(`${path}${search ? `?${search}` : ''}`, { replace: true });
  }

  // From the first page again: older pages read before ("Load older") would follow a first page that
  // now ends earlier, and what moved between the two would be shown nowhere.
  function refresh() {
    setMore(null);
    setMoreState({ busy: false, error: null });
    first.reload();
  }

  async function loadMore() {
    if (!cursor) return;
    setMoreState({ busy: true, error: null });
    try {
      const page = await client.listEvents(project.id, { ...filter, cursor });
      setMore({ key, items: [...(extra?.items ?? []), ...page.data], cursor: page.nextCursor });
      setMoreState({ busy: false, error: null });
    } catch (error) {
      setMoreState({ busy: false, error });
    }
  }

  const filtered = Boolean(filter.type || filter.since || filter.until || filter.key);
  return (
    <div>
      <h2>Events</h2>
      <form class="filters" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <TypeFilterField
          label="Event type"
          value={filter.type}
          suggestions={typeNames}
          onApply={(type) => setFilter({ type })}
          error={misfit?.type}
        />
        <TimeRangeFields since={filter.since} until={filter.until} onChange={setFilter} errors={misfit} />
        <TypeFilterField
          label="Idempotency key"
          value={filter.key}
          suggestions={[]}
          onApply={(key) => setFilter({ key })}
          error={misfit?.key}
          placeholder="Any"
          hint="The key the event was sent with (an order id, say), exactly, spaces included; empty for all."
          exact
        />
        <div class="filters-actions">
          <button type="button" onClick={refresh} disabled={first.loading}>
            {first.loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </form>
      <ErrorBanner error={misfit ? null : first.error} onRetry={first.reload} />
      {first.loading && !loaded && <Loading label="Loading events…" />}
      {loaded && events.length === 0 && (
        <EmptyState
          title={
            cursor
              ? 'None of the events searched so far match'
              : filtered
                ? 'No events match these filters'
                : 'No events yet'
          }
        >
          {cursor
            ? 'An idempotency key searches 10,000 events at a time: search older ones, or set a time range.'
            : filtered
              ? 'Try a wider time range or another type.'
              : `Events appear here when the platform sends them (POST /api/v1/projects/${project.uid ?? project.id}/events).`}
        </EmptyState>
      )}
      {events.length > 0 && (
        <TableScroll label="Events">
          <table>
            <caption class="sr-only">Events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Deliveries</th>
                <th scope="col">Event</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <td>
                    <RelativeTime at={event.createdAt} />
                  </td>
                  <td>
                    <code>{event.type}</code> {event.test && <StatusBadge status="test" label="test" />}
                  </td>
                  <td>
                    <DeliveriesCell
                      deliveries={deliveries.get(event.id)}
                      endpoints={endpoints.data}
                      eventPath={`${base}/events/${encodeURIComponent(event.id)}`}
                    />
                  </td>
                  <td>
                    <Link to={`${base}/events/${encodeURIComponent(event.id)}`}>
                      <code>{event.id}</code>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <ErrorBanner error={moreState.error} />
      {cursor && (
        <button type="button" onClick={loadMore} disabled={moreState.busy}>
          {moreState.busy ? 'Loading…' : 'Load older events'}
        </button>
      )}
    </div>
  );
}

/**
 * One badge per delivery shown: the endpoint's name (or, without one, its URL's host and path,
 * shortened) and the delivery's status; then whether there are more, linking to the event's page.
 */
function DeliveriesCell({
  deliveries,
  endpoints,
  eventPath,
}: {
  /** undefined: not read yet; null: could not be read. */
  deliveries: FirstDeliveries | null | undefined;
  /** null: the endpoint was deleted. */
  endpoints: Map<string, Endpoint | null> | undefined;
  eventPath: string;
}) {
  if (deliveries === undefined) return <span class="muted">…</span>;
  if (deliveries === null) {
    return (
      <Link to={eventPath} class="small">
        Not read: open the event
        <span class="sr-only"> to see its deliveries (they could not be loaded here)</span>
      </Link>
    );
  }
  const { first: shown, more } = deliveries;
  if (shown.length === 0) return <span class="muted">none</span>;
  return (
    <span class="badges">
      {shown.map((delivery) => {
        const where = shortUrl(delivery.url);
        const name = delivery.endpointId
          ? endpoints?.get(delivery.endpointId)?.name || where
          : `callback ${where}`;
        return (
          <span key={delivery.id} title={delivery.url}>
            <StatusBadge
              status={delivery.status}
              label={
                <>
                  <bdi>{name}</bdi>: {delivery.status}
                  {delivery.attempts > 1 ? ` (${delivery.attempts} tries)` : ''}
                </>
              }
            />
          </span>
        );
      })}
      {more !== 0 && (
        <Link to={eventPath} class="small">
          {more === 'some' ? '+ more' : `+${more.toLocaleString('en-US')} more`}
          <span class="sr-only"> deliveries</span>
        </Link>
      )}
    </span>
  );
}
