/** Operator sign-in with the admin token (checked against the API before it is kept). */
import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { createClient } from '../api/client.ts';
import { errorMessage } from '../api/error-messages.ts';
import { TextField } from '../components/fields.tsx';
import { usePageTitle } from '../page-title.ts';

export function SignIn({ onSignIn, expired }: { onSignIn: (token: string) => void; expired: boolean }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(['Sign in']);

  async function submit(event: Event) {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError('Enter the admin token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Listing projects needs the admin token: a project key or a typo is refused here.
      await createClient(candidate, () => {}).listProjects();
      onSignIn(candidate);
    } catch (caught) {
      setError(
        caught instanceof ApiError && (caught.status === 401 || caught.status === 403)
          ? 'This token was not accepted. Use the admin token (HERALD_ADMIN_TOKEN, printed when the server first started).'
          : errorMessage(caught),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin" id="main">
      <form class="card signin-card" onSubmit={submit} noValidate>
        <h1>Herald</h1>
        <p class="muted">Sign in with the admin token to manage projects, endpoints and deliveries.</p>
        {expired && (
          <p class="banner banner-error" role="alert">
            Your session ended: the token was refused. Sign in again.
          </p>
        )}
        <TextField
          label="Admin token"
          type="password"
          name="token"
          autoComplete="current-password"
          value={token}
          onInput={setToken}
          error={error}
          hint="Kept only in this browser tab (sessionStorage) until you sign out or close it."
          required
        />
        <button type="submit" class="button-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
