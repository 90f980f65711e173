/**
 * A lever on one endpoint over the events or deliveries since a time (recover, replay): a time
 * field, a button, and what the server answered. Refused on a disabled endpoint (409): said here
 * rather than after a click.
 */
import { useState } from 'preact/hooks';
import { errorMessage } from '../api/error-messages.ts';
import type { Endpoint } from '../api/types.ts';
import { fromLocalInput, toLocalInput } from '../format.ts';
import { Notice } from './feedback.tsx';
import { TextField } from './fields.tsx';

export interface SinceLeverProps {
  endpoint: Endpoint;
  /** Prefix of the element ids (`recover`: `recover-title`, `recover-disabled`). */
  id: string;
  title: string;
  blurb: string;
  fieldLabel: string;
  button: string;
  busyButton: string;
  /** What the endpoint's being disabled means for this lever. */
  disabledHint: string;
  /**
   * Pulls the lever from `since` (ISO); resolves to what to say it did and, when it stopped short of
   * the range, where to go on (the field is set to it).
   */
  run: (since: string) => Promise<{ text: string; nextSince: string | null }>;
}

export function SinceLever(props: SinceLeverProps) {
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3600_000)));
  /**
   * The server's nextSince, to the millisecond, while the field shows it (to the minute): pressing
   * the button again goes on exactly where the lever stopped, not from the start of that minute.
   */
  const [exact, setExact] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const iso = exact && since === toLocalInput(new Date(exact)) ? exact : fromLocalInput(since);
    if (!iso) {
      setError('Pick a start time.');
      return;
    }
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const { text, nextSince } = await props.run(iso);
      setMessage(text);
      if (nextSince) {
        setSince(toLocalInput(new Date(nextSince)));
        setExact(nextSince);
      }
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  const disabled = props.endpoint.status === 'disabled';
  return (
    <form class="card" onSubmit={submit} aria-labelledby={`${props.id}-title`} noValidate>
      <h3 id={`${props.id}-title`}>{props.title}</h3>
      <p class="muted">{props.blurb}</p>
      <TextField label={props.fieldLabel} type="datetime-local" value={since} onInput={setSince} />
      <button
        type="submit"
        disabled={busy || disabled}
        aria-describedby={disabled ? `${props.id}-disabled` : undefined}
      >
        {busy ? props.busyButton : props.button}
      </button>
      {disabled && (
        <p class="hint" id={`${props.id}-disabled`}>
          {props.disabledHint}
        </p>
      )}
      <Notice>{message}</Notice>
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
