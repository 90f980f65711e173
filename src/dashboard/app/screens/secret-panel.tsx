/**
 * The signing secret: hidden until asked for, copyable, rotatable with a grace period. Older secrets
 * still valid after a rotation are listed with their expiry (their values too once revealed).
 */
import { useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../api/client.ts';
import type { Endpoint, SigningSecret } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { SelectField } from '../components/fields.tsx';
import { useInlineConfirm } from '../components/inline-confirm.ts';
import { formatRelative, formatTime } from '../format.ts';
import { useProject } from '../project-context.ts';

const GRACE = [
  { value: '0', label: 'Immediately' },
  { value: '3600', label: 'After 1 hour' },
  { value: '86400', label: 'After 24 hours' },
  { value: '604800', label: 'After 7 days' },
];
/** Schemes that sign with every valid secret; the others carry one signature, the newest secret's. */
const MULTI_SIGNATURE = new Set(['standard', 'stripe']);

export function SecretPanel({ endpoint }: { endpoint: Endpoint }) {
  const { client } = useApp();
  const { project } = useProject();
  // The values, once revealed (current first); null while hidden.
  const [secrets, setSecrets] = useState<SigningSecret[] | null>(null);
  // When the older secrets still valid expire: known without revealing anything.
  const [older, setOlder] = useState<(string | null)[]>([]);
  const secret = secrets?.[0]?.secret ?? null;
  const [busy, setBusy] = useState<'reveal' | 'rotate' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [grace, setGrace] = useState('86400');
  const confirm = useInlineConfirm();

  const signed = endpoint.signature.scheme !== 'none';
  useEffect(() => {
    if (!signed) return;
    let live = true;
    client.getSecrets(project.id, endpoint.id).then(
      (list) => {
        if (live) setOlder(list.slice(1).map((item) => item.expiresAt));
      },
      () => {
        // The panel still works (Reveal reports the error); only the older secrets go unlisted.
      },
    );
    return () => {
      live = false;
    };
  }, [client, project.id, endpoint.id, signed]);

  function show(list: SigningSecret[]) {
    setSecrets(list);
    setOlder(list.slice(1).map((item) => item.expiresAt));
  }

  if (!signed) {
    return (
      <section class="card" aria-labelledby="secret-title">
        <h3 id="secret-title">Signing secret</h3>
        <p class="muted">
          This endpoint is not signed (scheme “none”). Choose a scheme in Settings to sign requests.
        </p>
      </section>
    );
  }

  async function reveal() {
    setBusy('reveal');
    setError(null);
    try {
      show(await client.getSecrets(project.id, endpoint.id));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(null);
    }
  }

  async function rotate() {
    setBusy('rotate');
    setError(null);
    try {
      show(await client.rotateSecret(project.id, endpoint.id, Number(grace)));
      confirm.cancel();
      setMessage(
        grace === '0'
          ? 'Secret rotated. The old secret no longer signs requests.'
          : MULTI_SIGNATURE.has(endpoint.signature.scheme)
            ? `Secret rotated. Requests carry signatures for both secrets until the old one expires (${GRACE.find((g) => g.value === grace)?.label.toLowerCase()}).`
            : 'Secret rotated. This endpoint’s scheme carries one signature: requests are signed with the new secret from now on.',
      );
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="card" aria-labelledby="secret-title">
      <h3 id="secret-title">Signing secret</h3>
      <p class="muted">Your receiver uses it to check that requests come from us.</p>
      <div class="secret-row">
        <code class="secret" data-testid="secret-value">
          {secret ?? '••••••••••••••••••••••••'}
        </code>
        {secret ? (
          <>
            <CopyButton text={secret} />
            <button type="button" class="button-small" onClick={() => setSecrets(null)}>
              Hide
            </button>
          </>
        ) : (
          <button type="button" class="button-small" onClick={reveal} disabled={busy !== null}>
            {busy === 'reveal' ? 'Loading…' : 'Reveal'}
          </button>
        )}
      </div>
      {older.length > 0 && (
        <div class="older-secrets">
          <p class="muted">
            {older.length === 1 ? 'The previous secret is' : `${older.length} older secrets are`} still valid:
            requests carry a signature for each until it expires.
          </p>
          <ul data-testid="older-secrets">
            {older.map((expiresAt, index) => (
              <li key={index} class="older-secret">
                <code class="secret">{secrets?.[index + 1]?.secret ?? '••••••••••••••••••••••••'}</code>{' '}
                <span>
                  {expiresAt ? (
                    <>
                      valid until <time dateTime={expiresAt}>{formatTime(expiresAt)}</time> (
                      {formatRelative(expiresAt)})
                    </>
                  ) : (
                    'valid with no expiry'
                  )}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {!confirm.open ? (
        <button type="button" ref={confirm.openerRef} onClick={confirm.show}>
          Rotate secret…
        </button>
      ) : (
        <div class="confirm" ref={confirm.panelRef}>
          <SelectField label="Old secret stops working" value={grace} options={GRACE} onChange={setGrace} />
          <div class="actions">
            <button type="button" class="button-danger" onClick={rotate} disabled={busy !== null}>
              {busy === 'rotate' ? 'Rotating…' : 'Rotate now'}
            </button>
            <button type="button" ref={confirm.cancelRef} onClick={confirm.cancel}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {message && (
        <p class="banner banner-ok" role="status">
          {message}
        </p>
      )}
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
