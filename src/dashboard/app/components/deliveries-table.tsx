/** An event's deliveries: one row per endpoint (or callback URL) with its status, and a retry button. */
import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { errorMessage } from '../api/error-messages.ts';
import type { DeliverySummary, Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { forgetEndpoint } from '../endpoint-names.ts';
import { useProject } from '../project-context.ts';
import { RETRY_BLOCK_TEXT, retryBlock, staleAfterRefusal } from '../retry-block.ts';
import type { RowsRef } from '../use-capped-list.ts';
import { Link } from './link.tsx';
import { NextAttempt } from './next-attempt.tsx';
import { StatusBadge } from './status-badge.tsx';
import { TableScroll } from './table-scroll.tsx';

export function DeliveriesTable({
  deliveries,
  endpoints,
  onRetried,
  onDeliveryStale,
  onEndpointStale,
  rowsRef,
}: {
  deliveries: DeliverySummary[];
  /** On the rows' <tbody>: where "Show more" puts the focus (useCappedList). */
  rowsRef?: RowsRef;
  /** The endpoints read so far: null for one the API says was deleted. */
  endpoints: Map<string, Endpoint | null>;
  onRetried?: () => void;
  /** The API refused a retry because an attempt is being sent: the deliveries shown here are old. */
  onDeliveryStale?: () => void;
  /** The API refused a retry because an endpoint is disabled or deleted: its state shown here is old. */
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
        <tbody ref={rowsRef}>
          {deliveries.map((delivery) => (
            <DeliveryRow
              key={delivery.id}
              delivery={delivery}
              endpoint={delivery.endpointId ? endpoints.get(delivery.endpointId) : undefined}
              onRetried={onRetried}
              onDeliveryStale={onDeliveryStale}
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
  onDeliveryStale,
  onEndpointStale,
}: {
  delivery: DeliverySummary;
  /** null: the endpoint was deleted; undefined: not known (a callback, or not read). */
  endpoint: Endpoint | null | undefined;
  onRetried: (() => void) | undefined;
  onDeliveryStale: (() => void) | undefined;
  onEndpointStale: (() => void) | undefined;
}) {
  const { client } = useApp();
  const { project, base } = useProject();
  const [state, setState] = useState<{ busy: boolean; message: string | null; refused: boolean }>({
    busy: false,
    message: null,
    refused: false,
  });
  async function retry() {
    setState({ busy: true, message: null, refused: false });
    try {
      await client.retryDelivery(project.id, delivery.id);
      setState({ busy: false, message: 'Queued', refused: false });
      onRetried?.();
    } catch (caught) {
      // The row was out of date (the endpoint disabled or deleted, or an attempt went out since it
      // was read): read it again, so the button then says why. The server's own words stay shown.
      const stale = caught instanceof ApiError ? staleAfterRefusal(caught.code) : null;
      if (stale === 'endpoint' && delivery.endpointId) {
        forgetEndpoint(client, project.id, delivery.endpointId);
        onEndpointStale?.();
      } else if (stale === 'delivery') {
        onDeliveryStale?.();
      }
      setState({ busy: false, message: errorMessage(caught), refused: true });
    }
  }
  // The API refuses (409) these retries: said before the click.
  const block = retryBlock(delivery, endpoint);
  const hintId = `retry-blocked-${delivery.id}`;
  const messageId = `retry-message-${delivery.id}`;
  const describedBy = [block && hintId, state.refused && messageId].filter(Boolean).join(' ');
  return (
    <tr>
      <td class="cell-main">
        {delivery.endpointId ? (
          <Link to={`${base}/endpoints/${encodeURIComponent(delivery.endpointId)}/history`}>
            <bdi>{endpoint?.name || delivery.url}</bdi>
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
        <NextAttempt delivery={delivery} />
      </td>
      <td>
        <button
          type="button"
          class="button-small"
          onClick={retry}
          disabled={state.busy || block !== null}
          title={block ? RETRY_BLOCK_TEXT[block] : undefined}
          aria-describedby={describedBy || undefined}
        >
          {state.busy ? 'Retrying…' : 'Retry now'}
          {/* Out of sight, the row's endpoint: a list of buttons read "Retry now" once per delivery. */}
          <span class="sr-only">
            {' '}
            to <bdi>{endpoint?.name || (delivery.endpointId ? delivery.url : 'callback')}</bdi>
          </span>
        </button>
        {block === 'endpoint-disabled' && delivery.endpointId ? (
          <span class="small muted" id={hintId}>
            {' '}
            Endpoint disabled:{' '}
            <Link to={`${base}/endpoints/${encodeURIComponent(delivery.endpointId)}`}>enable it</Link> first.
          </span>
        ) : (
          block && (
            <span class="small muted" id={hintId}>
              {' '}
              {RETRY_BLOCK_TEXT[block]}
            </span>
          )
        )}
        {/* The answer to the click, kept whatever the row says since (read again, the delivery is
            in flight at once: its hint comes beside it). "Queued" goes into a live region that is
            always there: one added with its text may not be announced. */}
        <span class="small" role="status" aria-live="polite">
          {state.message && !state.refused && ` ${state.message}`}
        </span>
        {state.message && state.refused && (
          <span class="small" id={messageId} role="alert">
            {' '}
            {state.message}
          </span>
        )}
      </td>
    </tr>
  );
}
