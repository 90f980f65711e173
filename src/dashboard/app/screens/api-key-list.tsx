/**
 * The project's API keys (`GET …/api-keys`: name, prefix, scope, created, last used; never the key), each
 * with a Revoke button that asks first: revoking is at once and cannot be undone, and it revokes
 * the portal links the key created too.
 */
import { useRef, useState } from 'preact/hooks';
import { errorMessage } from '../api/error-messages.ts';
import type { ApiKey } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { isolate } from '../bidi-isolate.ts';
import { ErrorBanner, Loading, Notice } from '../components/feedback.tsx';
import { useInlineConfirm } from '../components/inline-confirm.ts';
import { RelativeTime } from '../components/relative-time.tsx';
import { TableScroll } from '../components/table-scroll.tsx';
import { useProject } from '../project-context.ts';
import { useAsync } from '../use-async.ts';

/** `version` changes when a key was created here: the list is read again. */
export function ApiKeyList({ version }: { version: number }) {
  const { client } = useApp();
  const { project } = useProject();
  const keys = useAsync(() => client.listApiKeys(project.id), [client, project.id, version]);
  const [revoked, setRevoked] = useState<ApiKey | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const heading = (
    <h3 id="keys-list-title" tabIndex={-1} ref={headingRef}>
      Keys of this project
    </h3>
  );

  if (!keys.data) {
    return (
      <>
        {heading}
        <ErrorBanner error={keys.error} onRetry={keys.reload} />
        {keys.loading && <Loading label="Loading API keys…" />}
      </>
    );
  }
  const onRevoked = (key: ApiKey) => {
    setRevoked(key);
    // Its row, with the button that had the focus, goes: the focus goes to the list, not <body>.
    headingRef.current?.focus();
    keys.reload();
  };
  return (
    <>
      {heading}
      <Notice>
        {revoked && (
          <>
            Key <bdi>{revoked.name}</bdi> ({revoked.prefix}…) revoked.
          </>
        )}
      </Notice>
      {keys.data.length === 0 ? (
        <p class="muted">No API keys yet.</p>
      ) : (
        <TableScroll label="API keys of this project">
          <table class="api-keys-table">
            <caption class="sr-only">API keys of this project</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Scope</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <ApiKeyRow key={key.id} apiKey={key} onRevoked={onRevoked} />
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </>
  );
}

function ApiKeyRow({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: (key: ApiKey) => void }) {
  const { client } = useApp();
  const { project } = useProject();
  const confirm = useInlineConfirm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await client.deleteApiKey(project.id, apiKey.id);
      onRevoked(apiKey);
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <tr>
      <td class="key-name">
        <bdi>{apiKey.name}</bdi>
        <br />
        <code class="small">{apiKey.prefix}…</code>
      </td>
      <td>{apiKey.scope}</td>
      <td>
        <RelativeTime at={apiKey.createdAt} />
      </td>
      <td>
        <RelativeTime at={apiKey.lastUsedAt} none="never" />
      </td>
      <td>
        {!confirm.open ? (
          <button
            type="button"
            class="button-small"
            ref={confirm.openerRef}
            onClick={confirm.show}
            aria-label={`Revoke ${isolate(apiKey.name)}…`}
          >
            Revoke…
          </button>
        ) : (
          <div class="actions" ref={confirm.panelRef}>
            <span class="small">
              Requests with it are refused at once, and the portal links it created stop working.
            </span>
            <button type="button" class="button-small button-danger" onClick={revoke} disabled={busy}>
              {busy ? (
                'Revoking…'
              ) : (
                <>
                  Yes, revoke <bdi>{apiKey.name}</bdi>
                </>
              )}
            </button>
            <button type="button" class="button-small" ref={confirm.cancelRef} onClick={confirm.cancel}>
              Cancel
            </button>
          </div>
        )}
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}
