/** One endpoint: header with its state, and tabs Overview · Example · History · Settings. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { errorMessage } from '../api/error-messages.ts';
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { ErrorBanner, Loading, Notice } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { useRefocusWhenGone } from '../components/refocus-when-gone.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { Tabs } from '../components/tabs.tsx';
import { rememberEndpoint } from '../endpoint-names.ts';
import { STATE_REFRESH_MS, withState } from '../endpoint-state.ts';
import { disabledReasonText, formatTime } from '../format.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { useLocation } from '../router.ts';
import { useAsync } from '../use-async.ts';
import { EndpointForm } from './endpoint-form.tsx';
import { EndpointOverview } from './endpoint-overview.tsx';
import { ExampleTab } from './example-tab.tsx';
import { HistoryTab } from './history-tab.tsx';
import { NotFound } from './not-found.tsx';

/** Each tab's path segment and label (the page's title names it too). */
const TABS: Record<string, string> = {
  overview: 'Overview',
  example: 'Example',
  history: 'History',
  settings: 'Settings',
};

export function EndpointScreen({ endpointId, tab }: { endpointId: string; tab: string }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const { query } = useLocation();
  const loaded = useAsync(() => client.getEndpoint(project.id, endpointId), [client, project.id, endpointId]);
  const [override, setOverride] = useState<Endpoint | null>(null);
  const [notice, setNotice] = useState<string | null>(query.get('created') ? 'Endpoint created.' : null);
  const endpoint = override ?? loaded.data;
  // Enable endpoint goes with its banner: the focus then goes to the endpoint's name.
  const refocus = useRefocusWhenGone(endpoint !== undefined && endpoint.status !== 'disabled');
  // An unknown tab is a NotFound, which names the page itself.
  const tabLabel = Object.hasOwn(TABS, tab) ? TABS[tab] : undefined;
  usePageTitle(tabLabel ? [tabLabel, endpoint ? endpoint.name || 'Endpoint' : null, project.name] : null);
  // A confirmation belongs to the tab it was shown on.
  const [noticeTab, setNoticeTab] = useState(tab);
  useEffect(() => {
    if (tab !== noticeTab) {
      setNotice(null);
      setNoticeTab(tab);
    }
  }, [tab, noticeTab]);
  // The events screens name endpoints from a per-session cache and read their state from it
  // (a disabled endpoint's deliveries offer no retry): keep it as this page last saw it.
  useEffect(() => {
    if (endpoint) rememberEndpoint(client, project.id, endpoint);
  }, [client, project.id, endpoint]);
  const home = `${base}/endpoints/${encodeURIComponent(endpointId)}`;
  // Deleted while shown (in another tab, by the API): said once a read finds it gone, reads then stop.
  const [deleted, setDeleted] = useState(false);
  // Only its state is taken from each read: settings being edited in the form are left alone.
  const shown = endpoint !== undefined;
  useEffect(() => {
    if (!shown || deleted) return;
    const timer = window.setInterval(() => {
      if (document.hidden) return;
      client.getEndpoint(project.id, endpointId).then(
        (fresh) => setOverride((current) => withState(current ?? loaded.data!, fresh)),
        // Unreachable: the next read, or the next action, says so.
        (error) => setDeleted(isNotFound(error)),
      );
    }, STATE_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [client, project.id, endpointId, shown, deleted]);

  if (!tabLabel) return <NotFound home={base} />;
  if (!endpoint) {
    if (isNotFound(loaded.error)) {
      return (
        <p class="banner banner-error" role="alert">
          This endpoint does not exist: it was deleted, or the link is wrong.{' '}
          <Link to={base}>Back to the endpoints</Link>
        </p>
      );
    }
    return (
      <div>
        <ErrorBanner error={loaded.error} onRetry={loaded.reload} />
        {loaded.loading && <Loading label="Loading endpoint…" />}
      </div>
    );
  }

  const update = (next: Endpoint, message: string) => {
    setOverride(next);
    setNotice(message);
  };

  return (
    <div class="endpoint">
      <div class="endpoint-head">
        <div>
          <h2 tabIndex={-1} ref={refocus.targetRef}>
            {endpoint.name || 'Endpoint'}
          </h2>
          <p class="url">
            <span class="method">{endpoint.method}</span> <code>{endpoint.url}</code>
          </p>
          {endpoint.description && <p class="muted">{endpoint.description}</p>}
        </div>
        <div class="endpoint-state">
          <StatusBadge status={endpoint.status} />
          {endpoint.dev && <StatusBadge status="dev" label="dev" />}
        </div>
      </div>
      {deleted && (
        <p class="banner banner-error" role="alert">
          This endpoint was deleted meanwhile: nothing more is sent to it, and nothing here can be changed.{' '}
          <Link to={base}>Back to the endpoints</Link>
        </p>
      )}
      {endpoint.status === 'disabled' && !deleted && (
        <DisabledBanner endpoint={endpoint} onEnable={refocus.arm} onEnabled={update} />
      )}
      <Notice>{notice}</Notice>
      <Tabs
        label="Endpoint sections"
        current={tab === 'overview' ? home : `${home}/${tab}`}
        tabs={Object.entries(TABS).map(([name, label]) => ({
          path: name === 'overview' ? home : `${home}/${name}`,
          label,
        }))}
      />
      {tab === 'overview' && <EndpointOverview endpoint={endpoint} />}
      {tab === 'example' && <ExampleTab endpoint={endpoint} />}
      {tab === 'history' && <HistoryTab endpoint={endpoint} />}
      {tab === 'settings' && (
        <EndpointForm
          key={endpoint.id}
          endpoint={endpoint}
          onSaved={(saved) => update(saved, 'Settings saved.')}
        />
      )}
    </div>
  );
}

/** What Enable endpoint did: how many parked deliveries it made due (the server counts them all). */
function enabledText(resumed: number): string {
  if (!(resumed > 0)) return 'Endpoint enabled. Nothing was parked.';
  const count = resumed.toLocaleString('en-US');
  return `Endpoint enabled: ${count} parked deliver${resumed === 1 ? 'y resumes' : 'ies resume'} now.`;
}

function DisabledBanner({
  endpoint,
  onEnable,
  onEnabled,
}: {
  endpoint: Endpoint;
  /** Enable endpoint was pressed. */
  onEnable: () => void;
  onEnabled: (e: Endpoint, m: string) => void;
}) {
  const { client } = useApp();
  const { project } = useProject();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reason = disabledReasonText(endpoint.disabledReason, endpoint.consecutiveFailures);
  async function enable() {
    onEnable();
    setBusy(true);
    setError(null);
    try {
      const { resumed, ...enabled } = await client.enableEndpoint(project.id, endpoint.id);
      onEnabled(enabled, enabledText(resumed));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="banner banner-warn" role="status">
      <span>
        Disabled{reason ? ` ${reason}` : ''}
        {endpoint.disabledAt ? ` since ${formatTime(endpoint.disabledAt)}` : ''}. New events skip it; its
        deliveries that were still due are kept (parked) and go out when you enable it again.
      </span>
      <button type="button" class="button-small" onClick={enable} disabled={busy}>
        {busy ? 'Enabling…' : 'Enable endpoint'}
      </button>
      {error && <span class="field-error">{error}</span>}
    </div>
  );
}

/** The API's answer for an endpoint that is not there (deleted, or never was). */
function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
