/** Sends the example of an event type to this endpoint, then points to the result in History. */
import { useState } from 'preact/hooks';
import { errorMessage } from '../api/error-messages.ts';
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { Notice } from '../components/feedback.tsx';
import { SelectField } from '../components/fields.tsx';
import { Link } from '../components/link.tsx';
import { useProject } from '../project-context.ts';
import { useCatalog } from '../use-catalog.ts';

export function TestEventPanel({ endpoint, onQueued }: { endpoint: Endpoint; onQueued: () => void }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const catalog = useCatalog();
  const types =
    endpoint.eventTypes.length > 0
      ? endpoint.eventTypes
      : (catalog.data ?? []).filter((t) => !t.deprecated).map((t) => t.name);
  const [type, setType] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ eventId: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = type || types[0] || '';

  async function send() {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await client.sendTest(project.id, endpoint.id, chosen || undefined));
      onQueued();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  const history = `${base}/endpoints/${encodeURIComponent(endpoint.id)}/history`;
  // A disabled endpoint's test send is refused (409): said here rather than after a click.
  const disabled = endpoint.status === 'disabled';
  return (
    <section class="card" aria-labelledby="test-title">
      <h3 id="test-title">Send a test event</h3>
      <p class="muted">
        Sends the event type's example payload to this endpoint only, signed like a real delivery, with the
        header <code>webhook-test: true</code> so your receiver can tell it from a live one.
        {!endpoint.dev && ' This endpoint is not a dev endpoint: the test goes to it all the same.'}
      </p>
      {types.length > 0 && (
        <SelectField
          label="Event type"
          value={chosen}
          options={types.map((name) => ({ value: name, label: name }))}
          onChange={setType}
        />
      )}
      <button
        type="button"
        class="button-primary"
        onClick={send}
        disabled={busy || disabled}
        aria-describedby={disabled ? 'test-disabled' : undefined}
      >
        {busy ? 'Sending…' : 'Send test event'}
      </button>
      {disabled && (
        <p class="hint" id="test-disabled">
          The endpoint is disabled: enable it first (above) to send it a test.
        </p>
      )}
      <Notice>
        {result && (
          <>
            Test event <code>{result.eventId}</code> queued. <Link to={history}>See it in History</Link>
          </>
        )}
      </Notice>
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
