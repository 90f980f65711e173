/** One attempt in full: request and response headers and bodies, error, and a button to resend. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { errorMessage } from '../api/error-messages.ts';
import { useApp } from '../app-context.ts';
import { CodeBlock } from '../components/code-block.tsx';
import { ErrorBanner, Loading, Notice } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { useRefocusWhenGone } from '../components/refocus-when-gone.ts';
import { OutcomeBadge } from '../components/status-badge.tsx';
import { rememberEndpoint } from '../endpoint-names.ts';
import { attemptErrorText, formatDuration, formatTime, headersText, prettyBody } from '../format.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { IN_FLIGHT_REFRESH_MS, RETRY_BLOCK_TEXT, retryBlock, staleAfterRefusal } from '../retry-block.ts';
import { navigate } from '../router.ts';
import { useAsync } from '../use-async.ts';
import { useRefreshWhile } from '../use-refresh-while.ts';
import { NotFound } from './not-found.tsx';

/**
 * `endpointId` is the URL's, which may not be the attempt's (an edited URL, a link of another
 * endpoint's): the page follows the endpoint the attempt itself names, and moves the URL to it; an
 * attempt of no endpoint (a callbackUrl's) is not found under one.
 */
export function AttemptDetail({ endpointId, attemptId }: { endpointId: string; attemptId: string }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const attempt = useAsync(() => client.getAttempt(project.id, attemptId), [client, project.id, attemptId]);
  // The attempt's own endpoint, once the attempt is read: the URL's showed another endpoint's state
  // (disabled or deleted) by the attempt, and Enable endpoint enabled that other one.
  const ownId = attempt.data?.endpointId ?? null;
  // A resend goes nowhere while the endpoint is disabled: say so here, with the way to enable it.
  const endpoint = useAsync(
    async () => (ownId ? client.getEndpoint(project.id, ownId) : undefined),
    [client, project.id, ownId],
  );
  useEffect(() => {
    if (ownId && ownId !== endpointId) {
      navigate(`${base}/endpoints/${encodeURIComponent(ownId)}/attempts/${encodeURIComponent(attemptId)}`, {
        replace: true,
      });
    }
  }, [base, ownId, endpointId, attemptId]);
  // Not found names the page itself.
  const notFound = attempt.data !== undefined && !attempt.data.endpointId;
  usePageTitle(
    notFound
      ? null
      : [attempt.data ? `Attempt #${attempt.data.number}` : 'Attempt', endpoint.data?.name, project.name],
  );
  // Enable endpoint goes with its banner: the focus then goes to the attempt's heading.
  const refocus = useRefocusWhenGone(endpoint.data !== undefined && endpoint.data.status !== 'disabled');
  useEffect(() => {
    if (endpoint.data) rememberEndpoint(client, project.id, endpoint.data);
  }, [client, project.id, endpoint.data]);
  // Nor while an attempt of its delivery is out (the API refuses, 409): the delivery's state is
  // read, again and again until that attempt is recorded. The delivery alone, not its event: an
  // event fanned out to thousands of endpoints lists thousands of deliveries, every 2 s.
  const deliveryId = attempt.data?.deliveryId;
  const delivery = useAsync(
    async () => (deliveryId ? client.getDelivery(project.id, deliveryId) : undefined),
    [client, project.id, deliveryId],
  );
  useRefreshWhile(Boolean(delivery.data?.inFlight), delivery.reload, IN_FLIGHT_REFRESH_MS, delivery.data);
  const [enabling, setEnabling] = useState<{ busy: boolean; error: string | null }>({
    busy: false,
    error: null,
  });
  const [resend, setResend] = useState<{ busy: boolean; done: boolean; error: string | null }>({
    busy: false,
    done: false,
    error: null,
  });
  const history = `${base}/endpoints/${encodeURIComponent(ownId ?? endpointId)}/history`;

  if (notFound) return <NotFound home={`${base}/events`} />;
  if (!attempt.data) {
    return (
      <div>
        <p>
          <Link to={history}>← Back to history</Link>
        </p>
        <ErrorBanner error={attempt.error} onRetry={attempt.reload} />
        {attempt.loading && <Loading label="Loading attempt…" />}
      </div>
    );
  }
  const a = attempt.data;
  // null: the API says the endpoint does not exist (deleted); undefined: not read (yet).
  const deleted = endpoint.error instanceof ApiError && endpoint.error.status === 404;
  const block = retryBlock(
    { endpointId: ownId, inFlight: delivery.data?.inFlight ?? false },
    deleted ? null : endpoint.data,
  );

  async function enable() {
    if (!ownId) return;
    refocus.arm();
    setEnabling({ busy: true, error: null });
    try {
      await client.enableEndpoint(project.id, ownId);
      setEnabling({ busy: false, error: null });
      endpoint.reload();
    } catch (caught) {
      setEnabling({ busy: false, error: errorMessage(caught) });
    }
  }

  async function retry() {
    setResend({ busy: true, done: false, error: null });
    try {
      await client.retryDelivery(project.id, a.deliveryId);
      setResend({ busy: false, done: true, error: null });
      delivery.reload(); // a worker takes it at once: Resend waits for that attempt
    } catch (caught) {
      // The page was out of date: read again what changed, so the button then says why. The
      // server's own words are shown meanwhile and stay.
      const stale = caught instanceof ApiError ? staleAfterRefusal(caught.code) : null;
      if (stale === 'endpoint') endpoint.reload();
      if (stale === 'delivery') delivery.reload();
      setResend({ busy: false, done: false, error: errorMessage(caught) });
    }
  }

  return (
    <article class="attempt" aria-labelledby="attempt-title">
      <p>
        <Link to={history}>← Back to history</Link>
      </p>
      <div class="section-head">
        <h2 id="attempt-title" tabIndex={-1} ref={refocus.targetRef}>
          Attempt #{a.number}{' '}
          <OutcomeBadge outcome={a.outcome} status={a.response?.status} errorKind={a.error?.kind} />
        </h2>
        <button
          type="button"
          class="button-primary"
          onClick={retry}
          disabled={resend.busy || block !== null}
          title={block ? RETRY_BLOCK_TEXT[block] : undefined}
          aria-describedby={block ? 'resend-disabled' : undefined}
        >
          {resend.busy ? 'Resending…' : 'Resend'}
        </button>
      </div>
      {block === 'endpoint-deleted' && (
        <p class="banner banner-warn" role="status" id="resend-disabled">
          This endpoint was deleted, so there is nothing to resend this attempt to.
        </p>
      )}
      {block === 'in-flight' && (
        <p class="banner" role="status" id="resend-disabled">
          An attempt of this delivery is being sent now: Resend returns once it is recorded.
        </p>
      )}
      {block === 'endpoint-disabled' && (
        <div class="banner banner-warn" role="status">
          <span id="resend-disabled">
            This endpoint is disabled, so a resend would not be sent. Enable it to resend (its parked
            deliveries go out then too).
          </span>
          <button type="button" class="button-small" onClick={enable} disabled={enabling.busy}>
            {enabling.busy ? 'Enabling…' : 'Enable endpoint'}
          </button>
          {enabling.error && <span class="field-error">{enabling.error}</span>}
        </div>
      )}
      <Notice>
        {resend.done && (
          <>
            Delivery queued again: the new attempt will appear in <Link to={history}>History</Link> in a
            moment.
          </>
        )}
      </Notice>
      {resend.error && (
        <p class="banner banner-error" role="alert">
          {resend.error}
        </p>
      )}
      <dl class="facts">
        <div>
          <dt>Time</dt>
          <dd>
            <time dateTime={a.startedAt}>{formatTime(a.startedAt)}</time>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(a.durationMs)}</dd>
        </div>
        <div>
          <dt>Outcome</dt>
          <dd>{a.outcome}</dd>
        </div>
        {a.eventType && (
          <div>
            <dt>Event type</dt>
            <dd>
              <code>{a.eventType}</code>
            </dd>
          </div>
        )}
        <div>
          <dt>Event</dt>
          <dd>
            <Link to={`${base}/events/${encodeURIComponent(a.eventId)}`}>
              <code>{a.eventId}</code>
            </Link>
          </dd>
        </div>
        <div>
          <dt>Delivery</dt>
          <dd>
            <code>{a.deliveryId}</code>
          </dd>
        </div>
      </dl>
      {a.error && <p class="banner banner-error">{attemptErrorText(a.error, a.response?.status)}</p>}
      <div class="grid-2">
        <section aria-labelledby="request-title">
          <h3 id="request-title">Request</h3>
          <CodeBlock
            label="Request line and headers"
            text={`${a.request.method} ${a.request.url}\n${headersText(a.request.headers)}`}
          />
          <CodeBlock
            label="Request body"
            text={prettyBody(a.request.body)}
            exact={a.request.body ?? ''}
            empty="No body."
          />
        </section>
        <section aria-labelledby="response-title">
          <h3 id="response-title">Response</h3>
          {a.response ? (
            <>
              <CodeBlock
                label="Status and headers"
                text={`HTTP ${a.response.status}\n${headersText(a.response.headers)}`}
              />
              <CodeBlock
                label="Response body (first 64 KiB)"
                text={prettyBody(a.response.body)}
                exact={a.response.body}
                empty="Empty body."
              />
            </>
          ) : (
            <p class="muted">No response: {a.error ? a.error.message : 'the request did not complete.'}</p>
          )}
        </section>
      </div>
    </article>
  );
}
