/** Re-sends every failed delivery of the endpoint since a time (after fixing the receiver). */
import { useState } from 'preact/hooks';
import { errorMessage } from '../api/error-messages.ts';
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { TextField } from '../components/fields.tsx';
import { fromLocalInput, toLocalInput } from '../format.ts';
import { useProject } from '../project-context.ts';

export function RecoverPanel({ endpoint }: { endpoint: Endpoint }) {
  const { client } = useApp();
  const { project } = useProject();
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3600_000)));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function recover(event: Event) {
    event.preventDefault();
    const iso = fromLocalInput(since);
    if (!iso) {
      setError('Pick a start time.');
      return;
    }
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const answer = (await client.recover(project.id, endpoint.id, iso)) as {
        recovered?: unknown;
        count?: unknown;
      } | null;
      const count =
        typeof answer?.recovered === 'number'
          ? answer.recovered
          : typeof answer?.count === 'number'
            ? answer.count
            : null;
      setMessage(
        count === null
          ? 'Failed deliveries queued again.'
          : `${count} failed deliver${count === 1 ? 'y' : 'ies'} queued again.`,
      );
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  // A disabled endpoint's recover is refused (409): said here rather than after a click.
  const disabled = endpoint.status === 'disabled';
  return (
    <form class="card" onSubmit={recover} aria-labelledby="recover-title" noValidate>
      <h3 id="recover-title">Recover failed deliveries</h3>
      <p class="muted">Fixed your receiver? Send again every delivery that failed since a time.</p>
      <TextField label="Failed since" type="datetime-local" value={since} onInput={setSince} />
      <button
        type="submit"
        disabled={busy || disabled}
        aria-describedby={disabled ? 'recover-disabled' : undefined}
      >
        {busy ? 'Recovering…' : 'Recover'}
      </button>
      {disabled && (
        <p class="hint" id="recover-disabled">
          The endpoint is disabled: enable it first (above), then recover.
        </p>
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
    </form>
  );
}
