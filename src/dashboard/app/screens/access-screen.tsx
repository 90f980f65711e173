/**
 * Operator-only: API keys for the platform backend (create, list, revoke), and portal links for the
 * customer (create; revoke all of the project's).
 */
import { useState } from 'preact/hooks';
import { capitalize, errorField, errorMessage, fieldMessage } from '../api/error-messages.ts';
import type { ApiKeyScope, CreatedApiKey, PortalLink } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { CodeBlock } from '../components/code-block.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorBanner } from '../components/feedback.tsx';
import { SelectField, TextField } from '../components/fields.tsx';
import { useInlineConfirm } from '../components/inline-confirm.ts';
import { formatTime } from '../format.ts';
import { focusOverLimit, LIMITS } from '../limits.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { ApiKeyList } from './api-key-list.tsx';

/** What a new key may do (docs/api.md "Key scopes"); a sender's key first, as the docs advise. */
const KEY_SCOPES: { value: ApiKeyScope; label: string }[] = [
  { value: 'send', label: 'Send events only (for the backend that sends them)' },
  { value: 'read', label: 'Read only (dashboards, monitoring)' },
  { value: 'full', label: 'Full (also endpoints, secrets, keys, portal links)' },
];

const LINK_LIFETIMES = [
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '24 hours' },
  { value: '604800', label: '7 days (longest)' },
];

export function AccessScreen() {
  usePageTitle(['Access', useProject().project.name]);
  return (
    <div class="panels">
      <PortalLinkPanel />
      <ApiKeyPanel />
    </div>
  );
}

function PortalLinkPanel() {
  const { client } = useApp();
  const { project } = useProject();
  const [expiresIn, setExpiresIn] = useState('3600');
  const [link, setLink] = useState<PortalLink | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function create() {
    setBusy(true);
    setError(null);
    try {
      setLink(await client.createPortalLink(project.id, Number(expiresIn)));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card" aria-labelledby="portal-title">
      <h2 id="portal-title">Customer portal</h2>
      <p class="muted">
        A signed link that opens this project's endpoints, history and examples — nothing else. Link to it or
        embed it in your own app with an iframe (allowed origins come from the server's frame-ancestors
        setting).
      </p>
      <SelectField
        label="Link valid for"
        value={expiresIn}
        options={LINK_LIFETIMES}
        onChange={setExpiresIn}
      />
      <button type="button" class="button-primary" onClick={create} disabled={busy}>
        {busy ? 'Creating…' : 'Create portal link'}
      </button>
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {link && (
        <div class="created" role="status">
          <p>
            Valid until {formatTime(link.expiresAt)}. Anyone with this link can manage this project's
            endpoints until then.
          </p>
          <div class="secret-row">
            <code class="secret" data-testid="portal-url">
              {link.url}
            </code>
            <CopyButton text={link.url} label="Copy link" />
            <a href={link.url} target="_blank" rel="noopener noreferrer" class="button button-small">
              Open
              {/* Said before it is followed: a new tab, with no Back to here. */}
              <span class="sr-only"> (opens in a new tab)</span>
            </a>
          </div>
          <CodeBlock
            label="Embed"
            text={`<iframe src="${link.url}" title="Webhooks" style="width:100%;height:800px;border:0"></iframe>`}
          />
        </div>
      )}
      <RevokePortalLinks onRevoked={() => setLink(null)} />
    </section>
  );
}

/**
 * DELETE …/portal-links: every link of the project issued until now stops working (the API cannot
 * list or revoke single links: each is a signed token it does not store). Links made afterwards work.
 */
function RevokePortalLinks({ onRevoked }: { onRevoked: () => void }) {
  const { client } = useApp();
  const { project } = useProject();
  const confirm = useInlineConfirm();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await client.revokePortalLinks(project.id);
      setDone(true);
      onRevoked();
      confirm.cancel();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="revoke-portal">
      <h3 id="revoke-portal-title">Revoke portal links</h3>
      <p class="muted">
        A leaked link? Revoke every portal link of this project made until now, by anyone. Links created
        afterwards work.
      </p>
      {!confirm.open ? (
        <button
          type="button"
          class="button-danger"
          ref={confirm.openerRef}
          onClick={() => {
            setDone(false);
            confirm.show();
          }}
        >
          Revoke all portal links…
        </button>
      ) : (
        <div class="actions" ref={confirm.panelRef}>
          <button type="button" class="button-danger" onClick={revoke} disabled={busy}>
            {busy ? 'Revoking…' : 'Yes, revoke all portal links'}
          </button>
          <button type="button" ref={confirm.cancelRef} onClick={confirm.cancel}>
            Cancel
          </button>
        </div>
      )}
      {done && (
        <p class="banner banner-ok" role="status">
          Every portal link of this project made until now is revoked: customers who open one are told it was
          revoked.
        </p>
      )}
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function ApiKeyPanel() {
  const { client } = useApp();
  const { project } = useProject();
  const [name, setName] = useState('');
  const [scope, setScope] = useState<ApiKeyScope>('send');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<unknown>(null);
  /** Bumped by each key created here, so the list below shows it. */
  const [version, setVersion] = useState(0);

  async function create(event: Event) {
    event.preventDefault();
    if (focusOverLimit(event.currentTarget)) return;
    if (!name.trim()) {
      setError('Name the key after what uses it (e.g. "game backend").');
      return;
    }
    setBusy(true);
    setError(null);
    setFormError(null);
    try {
      setCreated(await client.createApiKey(project.id, name.trim(), scope));
      setName('');
      setScope('send'); // the form starts again as it first was: a wider key is chosen each time
      setVersion((v) => v + 1);
    } catch (caught) {
      // About the name: next to it; anything else (not allowed, unreachable): below.
      if (errorField(caught) === 'body.name') setError(capitalize(fieldMessage(caught)));
      else setFormError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p class="muted">
        For the platform backend that sends this project's events. A key only reaches this project, and only
        what its scope allows: a backend that only sends events needs no more than a send key, which cannot
        change where events go nor read them if it leaks.
      </p>
      <form onSubmit={create} noValidate>
        <TextField
          label="Key name"
          value={name}
          onInput={setName}
          error={error}
          maxLength={LIMITS.name}
          required
        />
        <SelectField label="Scope" value={scope} options={KEY_SCOPES} onChange={setScope} />
        <ErrorBanner error={formError} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create API key'}
        </button>
        {/* The live region is always there, empty until a key is made (one added with its text may
            not be announced), and says only the sentence: not the key, character by character. */}
        <div class={created ? 'created' : undefined}>
          <div role="status" aria-live="polite">
            {created && (
              <p>
                <strong>Copy this key now:</strong> it is shown only once.
              </p>
            )}
          </div>
          {created && (
            <div class="secret-row">
              <code class="secret">{created.key}</code>
              <CopyButton text={created.key} what="API key" />
            </div>
          )}
        </div>
      </form>
      <ApiKeyList version={version} />
    </section>
  );
}
