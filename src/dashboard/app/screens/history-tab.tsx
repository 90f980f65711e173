/**
 * History tab: every attempt made to this endpoint, newest first, filterable by outcome, event type
 * and time (filters live in the URL, so a filtered view can be shared and survives reloads). Attempts
 * of test events (test: true, test sends) carry a "test" badge, as in the Events list.
 */
import { useState } from 'preact/hooks';
import type { AttemptFilter } from '../api/client.ts';
import type { Attempt, Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/feedback.tsx';
import { SelectField, TimeRangeFields, TypeFilterField } from '../components/fields.tsx';
import { Link } from '../components/link.tsx';
import { RelativeTime } from '../components/relative-time.tsx';
import { OutcomeBadge, StatusBadge } from '../components/status-badge.tsx';
import { TableScroll } from '../components/table-scroll.tsx';
import { filterErrors } from '../filter-errors.ts';
import { formatDuration } from '../format.ts';
import { useProject } from '../project-context.ts';
import { navigate, useLocation } from '../router.ts';
import { useAsync } from '../use-async.ts';
import { useCatalog } from '../use-catalog.ts';
import { useTestEvents } from '../use-test-events.ts';

const OUTCOMES = [
  { value: '', label: 'All outcomes' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
] as const;

/** `status` of the address, when it is an outcome the select offers; '' (all) otherwise. */
function outcomeOf(status: string | null): AttemptFilter['status'] {
  const known = OUTCOMES.find((outcome) => outcome.value !== '' && outcome.value === status);
  return known ? known.value : '';
}

export function HistoryTab({ endpoint }: { endpoint: Endpoint }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const { query, path } = useLocation();
  const filter: AttemptFilter = {
    // Only an outcome the select offers: another (a link typed or kept from elsewhere, `pending`)
    // was sent as it was and refused (400 `querystring.status: …` in a banner) while the select
    // showed All outcomes.
    status: outcomeOf(query.get('status')),
    eventType: query.get('eventType') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
  };
  const catalog = useCatalog();
  const typeNames =
    endpoint.eventTypes.length > 0 ? endpoint.eventTypes : (catalog.data ?? []).map((t) => t.name);
  const key = JSON.stringify(filter);
  const first = useAsync(
    async () => ({ key, page: await client.listAttempts(project.id, endpoint.id, filter) }),
    [client, project.id, endpoint.id, key],
  );
  // An error about a filter shows by it. The attempts read for other filters are not these
  // filters': they are not shown while these load, nor after their read failed (a server error, a
  // server gone), when they stayed on screen by the error as if they matched.
  const misfit = filterErrors(first.error);
  const loaded = !misfit && first.data?.key === key ? first.data.page : undefined;
  const [more, setMore] = useState<{ key: string; items: Attempt[]; cursor: string | null } | null>(null);
  const [moreState, setMoreState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const extra = more?.key === key ? more : null;
  const attempts = [...(loaded?.data ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : (loaded?.nextCursor ?? null);
  const testEvents = useTestEvents(client, project.id, attempts);

  function setFilter(patch: Partial<AttemptFilter>) {
    const next = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...filter, ...patch }))
      if (value) next.set(name, String(value));
    const search = next.toString();
    navigate(`${path.replace(/^\/?/, '/')}${search ? `?${search}` : ''}`, { replace: true });
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
      const page = await client.listAttempts(project.id, endpoint.id, { ...filter, cursor });
      setMore({ key, items: [...(extra?.items ?? []), ...page.data], cursor: page.nextCursor });
      setMoreState({ busy: false, error: null });
    } catch (error) {
      setMoreState({ busy: false, error });
    }
  }

  const filtered = Boolean(filter.status || filter.eventType || filter.since || filter.until);
  const attemptPath = (attempt: Attempt) =>
    `${base}/endpoints/${encodeURIComponent(endpoint.id)}/attempts/${encodeURIComponent(attempt.id)}`;

  return (
    <div class="history">
      <form class="filters" aria-label="Filter attempts" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Outcome"
          value={filter.status ?? ''}
          options={OUTCOMES.map((o) => ({ value: o.value, label: o.label }))}
          onChange={(status) => setFilter({ status })}
        />
        <TypeFilterField
          label="Event type"
          value={filter.eventType ?? ''}
          suggestions={typeNames}
          onApply={(eventType) => setFilter({ eventType })}
          error={misfit?.type}
        />
        <TimeRangeFields since={filter.since} until={filter.until} onChange={setFilter} errors={misfit} />
        <div class="filters-actions">
          <button type="button" onClick={refresh} disabled={first.loading}>
            {first.loading ? 'Refreshing…' : 'Refresh'}
          </button>
          {filtered && (
            <button
              type="button"
              onClick={() => setFilter({ status: '', eventType: '', since: '', until: '' })}
            >
              Clear filters
            </button>
          )}
        </div>
      </form>
      <ErrorBanner error={misfit ? null : first.error} onRetry={first.reload} />
      {first.loading && !loaded && <Loading label="Loading attempts…" />}
      {loaded && attempts.length === 0 && (
        <EmptyState
          title={
            cursor
              ? 'None of the attempts searched so far match'
              : filtered
                ? 'No attempts match these filters'
                : 'No attempts yet'
          }
        >
          {cursor
            ? 'Filters by event type or success search 10,000 attempts at a time: search older ones, or set a time range.'
            : filtered
              ? 'Try a wider time range or another outcome.'
              : 'Attempts appear here as soon as an event is delivered. Send a test event from the Overview tab.'}
        </EmptyState>
      )}
      {attempts.length > 0 && (
        <TableScroll label="Delivery attempts">
          <table class="history-table">
            <caption class="sr-only">Delivery attempts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event type</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
                <th scope="col">Attempt</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((attempt) => (
                <tr key={attempt.id} class={attempt.outcome === 'failed' ? 'row-failed' : undefined}>
                  <td>
                    <Link to={attemptPath(attempt)}>
                      <RelativeTime at={attempt.startedAt} />
                    </Link>
                  </td>
                  <td>
                    <code>{attempt.eventType ?? attempt.eventId}</code>{' '}
                    {testEvents.has(attempt.eventId) && <StatusBadge status="test" label="test" />}
                  </td>
                  <td>
                    <OutcomeBadge
                      outcome={attempt.outcome}
                      status={attempt.response?.status}
                      errorKind={attempt.error?.kind}
                    />
                    <span class="sr-only"> {attempt.outcome}</span>
                  </td>
                  <td>{formatDuration(attempt.durationMs)}</td>
                  <td>#{attempt.number}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <ErrorBanner error={moreState.error} />
      {cursor && (
        <button type="button" onClick={loadMore} disabled={moreState.busy}>
          {moreState.busy
            ? 'Loading…'
            : attempts.length === 0
              ? 'Search older attempts'
              : 'Load older attempts'}
        </button>
      )}
    </div>
  );
}
