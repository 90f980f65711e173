/** Sends the example of an event type to this endpoint, then points to the result in History. */
import { useState } from 'preact/hooks';
import { capitalize, errorField, errorMessage, fieldMessage } from '../api/error-messages.ts';
import type { Endpoint } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { isolate } from '../bidi-isolate.ts';
import { Notice } from '../components/feedback.tsx';
import { SelectField } from '../components/fields.tsx';
import { Link } from '../components/link.tsx';
import { useProject } from '../project-context.ts';
import { useCatalogList } from '../use-catalog.ts';

export function TestEventPanel({ endpoint, onQueued }: { endpoint: Endpoint; onQueued: () => void }) {
  const { client } = useApp();
  const { project, base } = useProject();
  const catalog = useCatalogList();
  const entries = catalog.data?.data ?? [];
  const types =
    endpoint.eventTypes.length > 0
      ? endpoint.eventTypes
      : entries.filter((t) => !t.deprecated).map((t) => t.name);
  // A test send is the catalog's example of its type: the API refuses (422) a type without one, or
  // one not in the catalog. Known only from a catalog read whole; otherwise the API says.
  const byName = new Map(entries.map((t) => [t.name, t]));
  const whole = catalog.data?.nextCursor === null;
  const sendable = (name: string) => {
    const entry = byName.get(name);
    return entry ? entry.example !== null : !whole;
  };
  const [type, setType] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ eventId: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Until one is picked, the first type that can be sent (the API's own choice without one).
  const chosen = type || types.find(sendable) || types[0] || '';
  // Not picked, and the catalog not read (yet): the API picks, by the same rule.
  const sent = type || (catalog.data ? chosen : '');

  async function send() {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await client.sendTest(project.id, endpoint.id, sent || undefined));
      onQueued();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const history = `${base}/endpoints/${encodeURIComponent(endpoint.id)}/history`;
  // A disabled endpoint's test send is refused (409): said here rather than after a click; so is
  // a type the catalog (read whole) has no example of (422): the button sent it and showed the
  // API's refusal, field name and all.
  const disabled = endpoint.status === 'disabled';
  const unsendable = chosen !== '' && !sendable(chosen);
  // A refusal of the type (the catalog changed since it was read) is said by its field.
  const typeError = errorField(error) === 'body.eventType' ? capitalize(fieldMessage(error)) : null;
  const describedBy = [disabled ? 'test-disabled' : '', unsendable ? 'test-unsendable' : '']
    .filter(Boolean)
    .join(' ');
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
          options={types.map((name) => ({
            value: name,
            label: sendable(name)
              ? name
              : `${isolate(name)} (${byName.has(name) ? 'no example in the catalog' : 'not in the catalog'})`,
          }))}
          onChange={(next) => {
            setType(next);
            setError(null);
          }}
          error={typeError}
        />
      )}
      <button
        type="button"
        class="button-primary"
        onClick={send}
        disabled={busy || disabled || unsendable}
        aria-describedby={describedBy || undefined}
      >
        {busy ? 'Sending…' : 'Send test event'}
      </button>
      {disabled && (
        <p class="hint" id="test-disabled">
          The endpoint is disabled: enable it first (above) to send it a test.
        </p>
      )}
      {unsendable && (
        <p class="hint" id="test-unsendable">
          A test send is its type's example in the event catalog: this type{' '}
          {byName.has(chosen) ? 'has none there' : 'is not in it'}. Pick another type.
        </p>
      )}
      <Notice>
        {result && (
          <>
            Test event <code>{result.eventId}</code> queued. <Link to={history}>See it in History</Link>
          </>
        )}
      </Notice>
      {error !== null && !typeError && (
        <p class="banner banner-error" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </section>
  );
}
