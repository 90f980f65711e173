/**
 * The endpoint overview's "Waiting deliveries" card (GET …/endpoints/:endpoint/deliveries): how
 * many of its deliveries are pending and parked, and either list in the order it is due, a page at
 * a time. Each links to its event's page, where it can be retried.
 */
import { useState } from 'preact/hooks';
import type { DeliverySummary, Endpoint, WaitingCounts, WaitingStatus } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { EmptyState, ErrorBanner, ListStopped, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { NextAttempt } from '../components/next-attempt.tsx';
import { RelativeTime } from '../components/relative-time.tsx';
import { TableScroll } from '../components/table-scroll.tsx';
import { formatCount } from '../format.ts';
import { useProject } from '../project-context.ts';
import { useAsync } from '../use-async.ts';
import { type RowsRef, useCappedList } from '../use-capped-list.ts';

const LABEL: Record<WaitingStatus, string> = { pending: 'Pending', parked: 'Parked' };

/** `queued`: bumped when a lever of the page queued deliveries to the endpoint (read again then). */
export function WaitingDeliveries({ endpoint, queued = 0 }: { endpoint: Endpoint; queued?: number }) {
  const { client } = useApp();
  const { project } = useProject();
  // A disabled endpoint's deliveries are parked: those are shown until the switch says otherwise.
  const [chosen, setChosen] = useState<WaitingStatus | null>(null);
  const status = chosen ?? (endpoint.status === 'disabled' ? 'parked' : 'pending');
  const first = useAsync(
    async () => ({ status, page: await client.listEndpointDeliveries(project.id, endpoint.id, status) }),
    // Disabling parks the pending ones and enabling makes them pending again: read again then.
    [client, project.id, endpoint.id, status, endpoint.status, queued],
  );
  // While the other list loads, the one before stays out of its table (its counts stay shown).
  const page = first.data?.status === status ? first.data.page : undefined;
  // Due order moves a retried delivery along: a later page may repeat one (new-rows.ts).
  const list = useCappedList(
    page,
    (cursor) => client.listEndpointDeliveries(project.id, endpoint.id, status, cursor),
    (delivery) => delivery.id,
  );
  const counts = first.data?.page.counts;
  return (
    <section class="card" aria-labelledby="waiting-title">
      <div class="section-head">
        <h3 id="waiting-title">Waiting deliveries</h3>
        <div class="section-tools">
          <fieldset class="switch">
            <legend class="sr-only">Which waiting deliveries</legend>
            {(['pending', 'parked'] as const).map((s) => (
              <button
                key={s}
                type="button"
                class="button-small"
                aria-pressed={s === status}
                onClick={() => setChosen(s)}
              >
                {LABEL[s]}
              </button>
            ))}
          </fieldset>
          <button type="button" class="button-small" onClick={first.reload} disabled={first.loading}>
            {first.loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      {counts && <Counts counts={counts} />}
      <ErrorBanner error={first.error} onRetry={first.reload} />
      {!page && first.loading && <Loading label="Loading waiting deliveries…" />}
      {page && list.items.length === 0 && <Empty status={status} counts={counts} />}
      {list.items.length > 0 && (
        <WaitingTable status={status} deliveries={list.items} rowsRef={list.rowsRef} />
      )}
      {list.cursor && (
        <ListStopped
          shown={list.items.length}
          noun={`${status} deliveries`}
          busy={list.busy}
          error={list.error}
          onMore={list.more}
        />
      )}
    </section>
  );
}

function Counts({ counts }: { counts: WaitingCounts }) {
  return (
    <dl class="kpis">
      {(['pending', 'parked'] as const).map((s) => (
        <div key={s}>
          <dt>{LABEL[s]}</dt>
          <dd
            title={
              counts[s] >= counts.atMost
                ? `Counted up to ${formatCount(counts.atMost)}: at least that many`
                : undefined
            }
          >
            {formatCount(counts[s], counts.atMost)}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Empty({ status, counts }: { status: WaitingStatus; counts: WaitingCounts | undefined }) {
  if (status === 'parked') {
    return (
      <EmptyState title="Nothing parked">
        Deliveries are parked while the endpoint is disabled, and go out when it is enabled again.
      </EmptyState>
    );
  }
  return (
    <EmptyState title="Nothing waiting: every delivery to this endpoint has been attempted">
      {counts && counts.parked > 0
        ? `${formatCount(counts.parked, counts.atMost)} parked while the endpoint is disabled: see Parked.`
        : 'Failed ones are in History; Recover below sends them again.'}
    </EmptyState>
  );
}

function WaitingTable({
  status,
  deliveries,
  rowsRef,
}: {
  status: WaitingStatus;
  deliveries: DeliverySummary[];
  rowsRef: RowsRef;
}) {
  const { base } = useProject();
  const caption = `${LABEL[status]} deliveries to this endpoint, in the order they are due`;
  return (
    <TableScroll label={caption}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Attempts</th>
            {/* Nothing is due while parked (nextAttemptAt is null): no such column then. */}
            {status === 'pending' && <th scope="col">Next attempt</th>}
            <th scope="col">Last attempt</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody ref={rowsRef}>
          {deliveries.map((d) => (
            <tr key={d.id}>
              <td class="cell-main">
                <Link to={`${base}/events/${encodeURIComponent(d.eventId)}`}>
                  <code>{d.id}</code>
                </Link>
              </td>
              <td>{d.attempts}</td>
              {status === 'pending' && (
                <td>
                  <NextAttempt delivery={d} />
                </td>
              )}
              <td>
                <RelativeTime at={d.lastAttemptAt} none="never" />
              </td>
              <td>
                <RelativeTime at={d.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
