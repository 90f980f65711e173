/** An event's deliveries: one row per endpoint (or callback URL) with its status, and a retry button. */
import { useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../api/client.ts';
import type { DeliverySummary, Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { forgetEndpoint } from '../endpoint-names.ts';
import { formatRelative, formatTime } from '../format.ts';
import { useProject } from '../project-context.ts';
import { Link } from './link.tsx';
import { StatusBadge } from './status-badge.tsx';
import { TableScroll } from './table-scroll.tsx';

export function DeliveriesTable({
  deliveries,
  endpoints,
  onRetried,
  onEndpointStale,
}: {
  deliveries: DeliverySummary[];
  endpoints: Map<string, Endpoint>;
  onRetried?: () => void;
  /** The API refused a retry because an endpoint is disabled: its state shown here is old. */
  onEndpointStale?: () => void;
}) {
  if (deliveries.length === 0) {
    return (
      <p class="muted">
        No deliveries: no active endpoint was subscribed to this event type when it arrived.
      </p>
    );
  }
  return (
    <TableScroll label="Deliveries of this event">
      <table>
        <caption class="sr-only">Deliveries of this event</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Next attempt</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => (
            <DeliveryRow
              key={delivery.id}
              delivery={delivery}
              endpoint={delivery.endpointId ? endpoints.get(delivery.endpointId) : undefined}
              onRetried={onRetried}
              onEndpointStale={onEndpointStale}
            />
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

function DeliveryRow({
  delivery,
  endpoint,
  onRetried,
  onEndpointStale,
}: {
  delivery: DeliverySummary;
  endpoint: Endpoint | undefined;
  onRetried: (() => void) | undefined;
  onEndpointStale: (() => void) | undefined;
}) {
  const { client } = useApp();
  const { project, base } = useProject();
  const [state, setState] = useState<{ busy: boolean; message: string | null }>({
    busy: false,
    message: null,
  });
  async function retry() {
    setState({ busy: true, message: null });
    try {
      await client.retryDelivery(project.id, delivery.id);
      setState({ busy: false, message: 'Queued' });
      onRetried?.();
    } catch (caught) {
      // Disabled since the dashboard read it: read it again, so the row says so and how to fix it.
      if (
        caught instanceof ApiError &&
        caught.code === 'HERALD_ERR_ENDPOINT_DISABLED' &&
        delivery.endpointId
      ) {
        forgetEndpoint(client, project.id, delivery.endpointId);
        onEndpointStale?.();
      }
      setState({ busy: false, message: errorMessage(caught) });
    }
  }
  // The API refuses (409) to retry a delivery whose endpoint is disabled: said before the click.
  const disabled = endpoint?.status === 'disabled';
  const hintId = `retry-disabled-${delivery.id}`;
  return (
    <tr>
      <td class="cell-main">
        {delivery.endpointId ? (
          <Link to={`${base}/endpoints/${encodeURIComponent(delivery.endpointId)}/history`}>
            {endpoint?.name || delivery.url}
          </Link>
        ) : (
          <span>
            Callback <code class="url">{delivery.url}</code>
          </span>
        )}
      </td>
      <td>
        <StatusBadge status={delivery.status} />
      </td>
      <td>{delivery.attempts}</td>
      <td>
        {delivery.inFlight ? (
          <span title="A worker is sending it now; its attempt's record will settle it">sending</span>
        ) : delivery.nextAttemptAt ? (
          <time dateTime={delivery.nextAttemptAt} title={formatTime(delivery.nextAttemptAt)}>
            {formatRelative(delivery.nextAttemptAt)}
          </time>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td>
        <button
          type="button"
          class="button-small"
          onClick={retry}
          disabled={state.busy || disabled}
          aria-describedby={disabled ? hintId : undefined}
        >
          {state.busy ? 'Retrying…' : 'Retry now'}
        </button>
        {disabled && delivery.endpointId && (
          <span class="small muted" id={hintId}>
            {' '}
            Endpoint disabled:{' '}
            <Link to={`${base}/endpoints/${encodeURIComponent(delivery.endpointId)}`}>enable it</Link> first.
          </span>
        )}
        {state.message && !disabled && (
          <span class="small" role="status">
            {' '}
            {state.message}
          </span>
        )}
      </td>
    </tr>
  );
}
