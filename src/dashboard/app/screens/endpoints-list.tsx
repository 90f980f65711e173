/** A project's endpoints: where they point, what they receive, whether they work. */
import { Component, Fragment } from 'preact';
import { useCallback } from 'preact/hooks';
import { capitalize } from '../api/error-messages.ts';
import type { Endpoint, WaitingCounts } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { isolate } from '../bidi-isolate.ts';
import { EmptyState, ErrorBanner, ListStopped, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TableScroll } from '../components/table-scroll.tsx';
import { rememberEndpoint } from '../endpoint-names.ts';
import { disabledReasonText, formatCount, formatRate } from '../format.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { useAsync } from '../use-async.ts';
import { useCappedList } from '../use-capped-list.ts';
import { useEndpointBacklog } from '../use-endpoint-backlog.ts';
import { type Health, useEndpointHealth } from '../use-endpoint-health.ts';
import { useVisibleRows } from '../use-visible-rows.ts';

export function EndpointsList() {
  const { client } = useApp();
  const { project, base } = useProject();
  usePageTitle(['Endpoints', project.name]);
  const endpoints = useAsync(async () => {
    const read = await client.listEndpoints(project.id);
    // Fresh names for the events screens (endpoint-names.ts).
    for (const endpoint of read.data) rememberEndpoint(client, project.id, endpoint);
    return read;
  }, [client, project.id]);
  const list = useCappedList(endpoints.data, async (cursor) => {
    const read = await client.listEndpoints(project.id, cursor);
    for (const endpoint of read.data) rememberEndpoint(client, project.id, endpoint);
    return read;
  });
  // The figures of the rows in and near the window (use-visible-rows.ts), as they scroll into view:
  // a project of 2,000 endpoints sent 4,000 reads at every visit. Read again with the list.
  const visible = useVisibleRows(list.items.map((endpoint) => endpoint.id));
  const health = useEndpointHealth(client, project.id, visible.keys, endpoints.data);
  const backlog = useEndpointBacklog(client, project.id, visible.keys, endpoints.data);
  const { rowsRef: focusRef } = list;
  const { rowsRef: seenRef } = visible;
  const rowsRef = useCallback(
    (element: HTMLElement | null) => {
      focusRef(element);
      seenRef(element);
    },
    [focusRef, seenRef],
  );

  return (
    <div>
      <div class="section-head">
        <h2>Endpoints</h2>
        <div class="section-tools">
          {/* Reads the list again, and the figures of the rows in view: endpoints added, changed or disabled elsewhere. */}
          <button type="button" onClick={endpoints.reload} disabled={endpoints.loading}>
            {endpoints.loading ? 'Refreshing…' : 'Refresh'}
          </button>
          <Link to={`${base}/endpoints/new`} class="button button-primary">
            Add endpoint
          </Link>
        </div>
      </div>
      <ErrorBanner error={endpoints.error} onRetry={endpoints.reload} />
      {endpoints.loading && !endpoints.data && <Loading label="Loading endpoints…" />}
      {endpoints.data?.data.length === 0 && (
        <EmptyState title="No endpoints yet">
          An endpoint is a URL that receives this project's events, signed and retried until it answers 2xx.{' '}
          <Link to={`${base}/endpoints/new`}>Add the first endpoint</Link>.
        </EmptyState>
      )}
      {list.items.length > 0 && (
        <TableScroll label="Endpoints">
          <table class="endpoints-table">
            <caption class="sr-only">Endpoints</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Status</th>
                <th scope="col" class="col-events">
                  Events
                </th>
                <th scope="col">
                  Success <span class="muted">(24 h)</span>
                </th>
                <th scope="col">Waiting</th>
              </tr>
            </thead>
            <tbody ref={rowsRef}>
              {list.items.map((endpoint) => (
                <EndpointRow
                  key={endpoint.id}
                  endpoint={endpoint}
                  base={base}
                  health={health.results.get(endpoint.id)}
                  counts={backlog.results.get(endpoint.id)}
                />
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {list.cursor && (
        <ListStopped
          shown={list.items.length}
          noun="endpoints"
          busy={list.busy}
          error={list.error}
          onMore={list.more}
        />
      )}
    </div>
  );
}

interface RowProps {
  endpoint: Endpoint;
  base: string;
  health: Health | null | undefined;
  counts: WaitingCounts | null | undefined;
}

/**
 * One endpoint's row, drawn again only when its own props change: a chunk's answer (the figures of 50
 * rows), or a row scrolling into view, drew all 2,000 again.
 */
class EndpointRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps) {
    const now = this.props;
    return (
      next.endpoint !== now.endpoint ||
      next.base !== now.base ||
      next.health !== now.health ||
      next.counts !== now.counts
    );
  }

  override render() {
    return <Row {...this.props} />;
  }
}

function Row({ endpoint, base, health, counts }: RowProps) {
  return (
    <tr data-row-key={endpoint.id}>
      <td class="cell-main">
        <Link to={`${base}/endpoints/${encodeURIComponent(endpoint.id)}`}>
          <bdi>{endpoint.name || endpoint.url}</bdi>
        </Link>
        {endpoint.name && <div class="muted url">{endpoint.url}</div>}
      </td>
      <td>
        <StatusBadge status={endpoint.status} /> {endpoint.dev && <StatusBadge status="dev" label="dev" />}
        {endpoint.status === 'disabled' && endpoint.disabledReason && (
          <div class="muted small">
            {capitalize(disabledReasonText(endpoint.disabledReason, endpoint.consecutiveFailures))}
          </div>
        )}
      </td>
      <td class="col-events">
        {endpoint.eventTypes.length === 0 ? (
          <span class="muted">All events</span>
        ) : (
          <span title={endpoint.eventTypes.map(isolate).join(', ')}>
            {endpoint.eventTypes.slice(0, 2).map((type, index) => (
              <Fragment key={type}>
                {index > 0 && ', '}
                <bdi>{type}</bdi>
              </Fragment>
            ))}
            {endpoint.eventTypes.length > 2 && ` +${endpoint.eventTypes.length - 2}`}
          </span>
        )}
      </td>
      <td>
        <HealthCell health={health} />
      </td>
      <td>
        <WaitingCell counts={counts} />
      </td>
    </tr>
  );
}

/** Not read yet, or its read failed (each row's figures are read apart: one failing leaves the rest). */
function Unknown({ figure }: { figure: undefined | null }) {
  return figure === undefined ? (
    <span class="muted" title="Loading">
      …
    </span>
  ) : (
    <span class="muted" title="Could not be read: refresh the list to try again">
      —<span class="sr-only"> could not be read</span>
    </span>
  );
}

function HealthCell({ health }: { health: Health | null | undefined }) {
  if (!health) return <Unknown figure={health} />;
  const total = health.succeeded + health.failed;
  if (total === 0) return <span class="muted">no attempts</span>;
  const rate = health.succeeded / total;
  return (
    <span class={rate >= 0.99 ? 'rate-ok' : rate >= 0.9 ? 'rate-warn' : 'rate-bad'}>
      {formatRate(health.succeeded, total)} <span class="muted small">of {formatCount(total)}</span>
    </span>
  );
}

/** What waits for the endpoint: its pending deliveries, and its parked ones (while it is disabled). */
function WaitingCell({ counts }: { counts: WaitingCounts | null | undefined }) {
  if (!counts) return <Unknown figure={counts} />;
  const parts = [
    counts.pending > 0 && `${formatCount(counts.pending, counts.atMost)} pending`,
    counts.parked > 0 && `${formatCount(counts.parked, counts.atMost)} parked`,
  ].filter(Boolean);
  if (parts.length === 0) return <span class="muted">none</span>;
  return <span class={counts.parked > 0 ? 'rate-bad' : undefined}>{parts.join(', ')}</span>;
}
