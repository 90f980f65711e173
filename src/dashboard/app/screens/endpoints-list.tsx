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
  const named = new Set(visible.keys);
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
                  named={named.has(endpoint.id)}
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
  /** Its figures are asked for (its row in or near the window, or focused): not yet read is being read. */
  named: boolean;
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
      next.counts !== now.counts ||
      next.named !== now.named
    );
  }

  override render() {
    return <Row {...this.props} />;
  }
}

function Row({ endpoint, base, health, counts, named }: RowProps) {
  return (
    <tr data-row-key={endpoint.id}>
      {/* The row's header: a screen reader names the endpoint when it reads another of its cells. */}
      <th scope="row" class="cell-main">
        <Link to={`${base}/endpoints/${encodeURIComponent(endpoint.id)}`}>
          <bdi>{endpoint.name || endpoint.url}</bdi>
        </Link>
        {endpoint.name && <div class="muted url">{endpoint.url}</div>}
      </th>
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
      <td aria-busy={health === undefined && named ? 'true' : undefined}>
        <HealthCell health={health} named={named} />
      </td>
      <td aria-busy={counts === undefined && named ? 'true' : undefined}>
        <WaitingCell counts={counts} named={named} />
      </td>
    </tr>
  );
}

/**
 * Being read, not read yet (its row out of view: a screen reader's cursor reaches it without
 * scrolling), or its read failed (each row's figures are read apart: one failing leaves the rest).
 * Each says which in words; the ellipsis alone was read as "Loading" on every row out of view.
 */
function Unknown({ figure, named }: { figure: undefined | null; named: boolean }) {
  if (figure === undefined && named)
    return (
      <span class="muted" title="Reading…">
        <span aria-hidden="true">…</span>
        <span class="sr-only">reading</span>
      </span>
    );
  return figure === undefined ? (
    <span class="muted" title="Not read yet: scroll to this row, or focus its link">
      <span aria-hidden="true">…</span>
      <span class="sr-only">not read yet: scroll to this row, or focus its link</span>
    </span>
  ) : (
    <span class="muted" title="Could not be read: refresh the list to try again">
      —<span class="sr-only"> could not be read</span>
    </span>
  );
}

function HealthCell({ health, named }: { health: Health | null | undefined; named: boolean }) {
  if (!health) return <Unknown figure={health} named={named} />;
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
function WaitingCell({ counts, named }: { counts: WaitingCounts | null | undefined; named: boolean }) {
  if (!counts) return <Unknown figure={counts} named={named} />;
  const parts = [
    counts.pending > 0 && `${formatCount(counts.pending, counts.atMost)} pending`,
    counts.parked > 0 && `${formatCount(counts.parked, counts.atMost)} parked`,
  ].filter(Boolean);
  if (parts.length === 0) return <span class="muted">none</span>;
  return <span class={counts.parked > 0 ? 'rate-bad' : undefined}>{parts.join(', ')}</span>;
}
