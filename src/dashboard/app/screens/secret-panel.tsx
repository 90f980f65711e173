/**
 * The signing secret: hidden until asked for, copyable, rotatable with a grace period, to a generated
 * secret or one the user gives. Older secrets still valid after a rotation are listed with their
 * expiry (their values too once revealed). What a rotation does depends on the scheme
 * (docs/signatures.md "Keys and secrets"): `standard` and `stripe` sign with every valid secret; the
 * others with the current one only, so the receiver must accept the new secret before the rotation.
 * An `hmac-sha1-url` endpoint with a static `key` signs with that key: its secret is not used.
 */

import { useEffect, useState } from 'preact/hooks';
import { capitalize, errorField, errorMessage, fieldMessage } from '../api/error-messages.ts';
import type { Endpoint, SigningSecret } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { Notice } from '../components/feedback.tsx';
import { SelectField, TextField } from '../components/fields.tsx';
import { useInlineConfirm } from '../components/inline-confirm.ts';
import { formatRelative, formatTime } from '../format.ts';
import { LIMITS, lengthError } from '../limits.ts';
import { useProject } from '../project-context.ts';
import { SCHEME_INFO } from '../signed-request-preview.ts';

const GRACE = [
  { value: '0', label: 'Immediately' },
  { value: '3600', label: 'After 1 hour' },
  { value: '86400', label: 'After 24 hours' },
  { value: '604800', label: 'After 7 days' },
];
/**
 * Schemes that sign with every valid secret; the others (hmac-sha256, github, sha256-body,
 * hmac-sha1-url) carry one signature, the current secret's (packages/verify/src/schemes).
 */
export const MULTI_SIGNATURE: ReadonlySet<string> = new Set(['standard', 'stripe']);

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
  /** The secret to rotate to, as typed; empty: a generated one. */
  const [chosen, setChosen] = useState('');
  const [chosenError, setChosenError] = useState<string | null>(null);
  const confirm = useInlineConfirm();

  const scheme = endpoint.signature.scheme;
  const signed = scheme !== 'none';
  const multi = MULTI_SIGNATURE.has(scheme);
  const schemeName = SCHEME_INFO[scheme]?.label ?? scheme;
  // hmac-sha1-url with a static key (PushPushGo: the project id) signs with the key, never the secret.
  const staticKey = scheme === 'hmac-sha1-url' && Boolean(endpoint.signature.key);
  useEffect(() => {
    if (!signed || staticKey) return;
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
  }, [client, project.id, endpoint.id, signed, staticKey]);

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

  if (staticKey) {
    return (
      <section class="card" aria-labelledby="secret-title">
        <h3 id="secret-title">Signing secret</h3>
        <p class="muted" data-testid="secret-unused">
          This endpoint signs with its configured key (the static signing key in Settings), so its secret is
          not used: rotating the secret would not change any signature. To change the signatures, change the
          key in Settings; to sign with a secret instead, clear the key.
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
    setChosenError(null);
    setMessage(null);
    const given = chosen.trim();
    const tooLong = lengthError(given, LIMITS.secret);
    if (tooLong) {
      setChosenError(tooLong);
      setBusy(null);
      return;
    }
    try {
      show(await client.rotateSecret(project.id, endpoint.id, Number(grace), given || undefined));
      confirm.cancel();
      setChosen('');
      const which = given ? 'the secret you entered' : 'the new secret';
      setMessage(
        grace === '0'
          ? `Secret rotated. Requests are signed with ${which} only; the old secret no longer signs requests.`
          : multi
            ? `Secret rotated. Requests carry signatures for both secrets until the old one expires (${GRACE.find((g) => g.value === grace)?.label.toLowerCase()}).`
            : `Secret rotated. This endpoint’s scheme carries one signature: requests are signed with ${which} from now on, not the old one.`,
      );
    } catch (caught) {
      // A secret the scheme cannot use (422) or the current one again (409) is said by the field.
      if (given && errorField(caught) === 'body.secret') setChosenError(capitalize(fieldMessage(caught)));
      else setError(errorMessage(caught));
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
        {secret && <CopyButton text={secret} what="signing secret" />}
        {/* One button that turns from Reveal into Hide and back, so it keeps the keyboard focus (two
            buttons replacing each other left it on <body>). */}
        <button
          type="button"
          class="button-small"
          onClick={secret ? () => setSecrets(null) : reveal}
          disabled={!secret && busy !== null}
        >
          {secret ? 'Hide' : busy === 'reveal' ? 'Loading…' : 'Reveal'}
        </button>
      </div>
      {older.length > 0 && (
        <div class="older-secrets">
          <p class="muted" data-testid="older-secrets-note">
            {older.length === 1 ? 'The previous secret is' : `${older.length} older secrets are`} still valid:{' '}
            {multi
              ? 'requests carry a signature for each until it expires.'
              : `this endpoint’s scheme (${schemeName}) carries one signature, made with the current secret: ${older.length === 1 ? 'it signs' : 'they sign'} nothing, and a receiver that knows only ${older.length === 1 ? 'it' : 'an older one'} refuses the requests.`}
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
          {multi ? (
            <p class="hint" data-testid="rotate-advice">
              Until the old secret expires, requests carry a signature made with each: a receiver that knows
              either one accepts them.
            </p>
          ) : (
            <p class="hint" data-testid="rotate-advice">
              This endpoint’s scheme ({schemeName}) carries one signature: the new secret signs every request
              from the moment you rotate, and a receiver that knows only the old one refuses them. Safe order:
              choose the new secret, make your receiver accept both the old and the new one, then rotate to
              that secret here (enter it below), and drop the old one from the receiver afterwards.
            </p>
          )}
          <TextField
            label="New secret (optional)"
            type="password"
            name="newSecret"
            autoComplete="off"
            value={chosen}
            onInput={(value) => {
              setChosen(value);
              setChosenError(null);
            }}
            error={chosenError}
            maxLength={LIMITS.secret}
            spellcheck={false}
            hint={
              scheme === 'standard'
                ? 'Empty: a new one is generated. Yours: base64 of 24–64 bytes, with or without whsec_.'
                : 'Empty: a new one is generated. Yours: 8–1024 characters, used as written.'
            }
          />
          <SelectField
            label={multi ? 'Old secret stops working' : 'Old secret expires'}
            value={grace}
            options={GRACE}
            onChange={setGrace}
            hint={multi ? undefined : 'It no longer signs from the rotation on, whatever you choose here.'}
          />
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
      <Notice>{message}</Notice>
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
