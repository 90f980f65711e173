/**
 * Create or edit an endpoint, with every setting DESIGN.md lists: where (URL, method, envelope,
 * headers), what (event filter), how it is signed (scheme and options), and delivery behaviour
 * (timeout, retry schedule, rate limit).
 */
import { useState } from 'preact/hooks';
import { capitalize, errorField, fieldMessage } from '../api/error-messages.ts';
import type { Endpoint, Envelope, HttpMethod, SignatureScheme } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { EventTypePicker } from '../components/event-type-picker.tsx';
import { ErrorBanner, Loading } from '../components/feedback.tsx';
import { CheckboxField, focusFirstError, SelectField, TextField } from '../components/fields.tsx';
import { HeadersEditor } from '../components/headers-editor.tsx';
import { Link } from '../components/link.tsx';
import {
  deliveryHints,
  EMPTY_FORM,
  type EndpointFormState,
  type FormErrors,
  formFieldOf,
  formFromEndpoint,
  hasInput,
  inputFromForm,
  schemeOptions,
  signatureFromForm,
  validateForm,
} from '../endpoint-form-state.ts';
import { rememberEndpoint } from '../endpoint-names.ts';
import { focusOverLimit, LIMITS } from '../limits.ts';
import { usePageTitle } from '../page-title.ts';
import { useProject } from '../project-context.ts';
import { navigate } from '../router.ts';
import { SCHEME_DEFAULTS, SCHEME_INFO } from '../signed-request-preview.ts';
import { useCatalogList } from '../use-catalog.ts';
import { useDeliverySettings } from '../use-delivery-settings.ts';

const METHODS: { value: HttpMethod; label: string }[] = [
  { value: 'POST', label: 'POST' },
  { value: 'PUT', label: 'PUT' },
  { value: 'PATCH', label: 'PATCH' },
  { value: 'GET', label: 'GET (fields in the query string, no body)' },
];

const ENVELOPES: { value: Envelope; label: string }[] = [
  { value: 'standard', label: 'Standard: {type, timestamp, data}' },
  { value: 'event-data', label: 'Event/data: {event, data, id, time}' },
  { value: 'raw', label: 'Raw: the payload exactly as sent' },
];

const SCHEMES = (Object.keys(SCHEME_INFO) as SignatureScheme[]).map((value) => ({
  value,
  label: SCHEME_INFO[value].label,
}));

export function EndpointForm({
  endpoint,
  onSaved,
}: {
  endpoint?: Endpoint;
  onSaved?: (endpoint: Endpoint) => void;
}) {
  const { client } = useApp();
  const { project, base } = useProject();
  // Inside an endpoint's Settings tab, the endpoint's screen names the page.
  usePageTitle(endpoint ? null : ['New endpoint', project.name]);
  const catalog = useCatalogList();
  // Past the types read (EVENT_TYPES_CAP) the catalog has more: names may be typed in after all.
  const enforced = project.enforceCatalog && catalog.data?.nextCursor === null;
  // This installation's timeout limits and default schedule (null until known: the API checks).
  const settings = useDeliverySettings().data ?? null;
  const [form, setForm] = useState<EndpointFormState>(() =>
    endpoint ? formFromEndpoint(endpoint) : EMPTY_FORM,
  );
  const [errors, setErrors] = useState<FormErrors>({});
  const [submitError, setSubmitError] = useState<unknown>(null);
  /** The header a server error about `body.headers.<name>` names. */
  const [invalidHeader, setInvalidHeader] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The endpoint's state changes while its settings are open (enabled from the banner above,
  // disabled after failures, by the 5 s refresh): until the box is clicked it shows that state,
  // and a save leaves it alone rather than sending back the one the form opened with.
  const [activeChanged, setActiveChanged] = useState(false);
  const active = endpoint && !activeChanged ? endpoint.status === 'active' : form.active;
  const mode = endpoint ? 'update' : 'create';
  const set = <K extends keyof EndpointFormState>(key: K, value: EndpointFormState[K]) => {
    setForm((previous) => ({ ...previous, [key]: value }));
    // Editing a field answers its error.
    setErrors((previous) => {
      if (!(key in previous)) return previous;
      const { [key]: _answered, ...rest } = previous;
      return rest;
    });
  };
  const options = schemeOptions(form.scheme);
  const hints = deliveryHints(form, project.retrySchedule ?? null, settings);

  async function submit(event: Event) {
    event.preventDefault();
    // Text over the API's limit says so by its field (fields.tsx): go there, send nothing.
    if (focusOverLimit(event.currentTarget)) return;
    const defaultTimeoutMs = settings?.defaultTimeoutMs ?? null;
    const found = validateForm(
      form,
      { maxTimeoutMs: settings?.maxTimeoutMs ?? null, defaultTimeoutMs },
      mode,
    );
    setErrors(found);
    setSubmitError(null);
    setInvalidHeader(null);
    if (Object.keys(found).length > 0) {
      focusFirstError(document.querySelector('.endpoint-form'));
      return;
    }
    setBusy(true);
    try {
      const input = inputFromForm(form, mode, defaultTimeoutMs);
      const { active: _asOpened, ...keepState } = input;
      const saved = endpoint
        ? await client.updateEndpoint(project.id, endpoint.id, activeChanged ? input : keepState)
        : await client.createEndpoint(project.id, input);
      setActiveChanged(false);
      // A type typed and not added was saved with the others: it is one of them now.
      setForm((previous) => ({ ...previous, eventTypes: input.eventTypes, otherEventType: '' }));
      rememberEndpoint(client, project.id, saved);
      if (onSaved) onSaved(saved);
      else navigate(`${base}/endpoints/${encodeURIComponent(saved.id)}?created=1`);
    } catch (caught) {
      // An error about one field shows next to it (and the field gets the focus); others below.
      const field = errorField(caught);
      const place = field ? formFieldOf(field) : null;
      if (field && place && hasInput(form, mode, place.key)) {
        // The prefix names a header as written: only a bare message gets a capital.
        const message = place.prefix ? place.prefix + fieldMessage(caught) : capitalize(fieldMessage(caught));
        setErrors({ [place.key]: message });
        if (place.key === 'headers') setInvalidHeader(field.slice('body.headers.'.length) || null);
        focusFirstError(document.querySelector('.endpoint-form'));
      } else {
        setSubmitError(caught);
      }
    } finally {
      // Saved in the Settings tab, the form stays for the next change: its button too.
      setBusy(false);
    }
  }

  return (
    <form
      class="endpoint-form"
      onSubmit={submit}
      noValidate
      aria-label={endpoint ? 'Endpoint settings' : 'New endpoint'}
    >
      {!endpoint && <h2>New endpoint</h2>}
      <fieldset>
        <legend>Destination</legend>
        <TextField
          label="Endpoint URL"
          type="url"
          name="url"
          value={form.url}
          onInput={(v) => set('url', v)}
          error={errors.url}
          maxLength={LIMITS.url}
          required
          placeholder="https://example.com/webhooks/herald"
          hint="Called with each event. For services like Zapier or Pabbly, paste the URL they give you."
          spellcheck={false}
        />
        <TextField
          label="Name"
          name="name"
          value={form.name}
          onInput={(v) => set('name', v)}
          error={errors.name}
          maxLength={LIMITS.name}
          placeholder="CRM sync"
        />
        <TextField
          label="Description"
          name="description"
          value={form.description}
          onInput={(v) => set('description', v)}
          error={errors.description}
          maxLength={LIMITS.description}
          multiline
          hint="What this endpoint is for, to remember later."
        />
        <div class="grid-2">
          <SelectField
            label="Method"
            name="method"
            value={form.method}
            options={METHODS}
            onChange={(v) => set('method', v)}
            error={errors.method}
          />
          <SelectField
            label="Payload format"
            name="envelope"
            value={form.envelope}
            options={ENVELOPES}
            onChange={(v) => set('envelope', v)}
            error={errors.envelope}
          />
        </div>
        <HeadersEditor
          rows={form.headers}
          signature={signatureFromForm(form)}
          method={form.method}
          onChange={(rows) => set('headers', rows)}
          serverError={errors.headers}
          invalidName={invalidHeader}
        />
      </fieldset>

      {catalog.loading && !catalog.data ? (
        <Loading label="Loading event types…" />
      ) : (
        <>
          <ErrorBanner error={catalog.error} onRetry={catalog.reload} />
          <EventTypePicker
            catalog={catalog.data?.data ?? []}
            selected={form.eventTypes}
            onChange={(v) => set('eventTypes', v)}
            custom={form.otherEventType}
            onCustomChange={(v) => set('otherEventType', v)}
            error={errors.eventTypes}
            enforced={enforced}
          />
        </>
      )}

      <fieldset>
        <legend>Status</legend>
        <CheckboxField
          label="Active"
          checked={active}
          onChange={(v) => {
            setActiveChanged(true);
            set('active', v);
          }}
          error={errors.active}
          hint="Inactive endpoints receive nothing new; deliveries already queued are kept (parked) and resume when you reactivate it."
        />
        <CheckboxField
          label="Development endpoint"
          checked={form.dev}
          onChange={(v) => set('dev', v)}
          error={errors.dev}
          hint="Also receives test events (sent with test: true), e.g. from a staging platform."
        />
      </fieldset>

      <fieldset>
        <legend>Signature</legend>
        <SelectField
          label="Signature scheme"
          name="scheme"
          value={form.scheme}
          options={SCHEMES}
          onChange={(v) => set('scheme', v)}
          error={errors.scheme}
          hint={SCHEME_INFO[form.scheme].help}
        />
        <div class="grid-2">
          {options.signatureHeader && (
            <TextField
              label="Signature header"
              name="signatureHeader"
              value={form.signatureHeader}
              onInput={(v) => set('signatureHeader', v)}
              placeholder={SCHEME_DEFAULTS[form.scheme].signatureHeader}
              error={errors.signatureHeader}
              maxLength={LIMITS.headerName}
              spellcheck={false}
            />
          )}
          {options.timestampHeader && (
            <TextField
              label="Timestamp header"
              name="timestampHeader"
              value={form.timestampHeader}
              onInput={(v) => set('timestampHeader', v)}
              placeholder={SCHEME_DEFAULTS[form.scheme].timestampHeader}
              error={errors.timestampHeader}
              maxLength={LIMITS.headerName}
              spellcheck={false}
            />
          )}
          {options.encoding && (
            <SelectField
              label="Signature encoding"
              name="encoding"
              value={form.encoding}
              options={[
                { value: 'hex', label: 'hex' },
                { value: 'base64', label: 'base64' },
              ]}
              onChange={(v) => set('encoding', v)}
              error={errors.encoding}
            />
          )}
          {options.key && (
            <TextField
              label="Static signing key (optional)"
              name="key"
              value={form.signingKey}
              onInput={(v) => set('signingKey', v)}
              error={errors.signingKey}
              maxLength={LIMITS.signatureKey}
              hint="Signs with this key instead of the secret (PushPushGo uses the project id)."
              spellcheck={false}
            />
          )}
        </div>
        {mode === 'create' && options.usesSecret && (
          <TextField
            label="Secret (optional)"
            type="password"
            name="secret"
            autoComplete="off"
            value={form.secret}
            onInput={(v) => set('secret', v)}
            error={errors.secret}
            maxLength={LIMITS.secret}
            hint="Leave empty to generate one. Paste your receiver's existing secret to move it here without changing its code."
          />
        )}
      </fieldset>

      <fieldset>
        <legend>Delivery</legend>
        {/* Text inputs, not type=number, which made "7,5" a rate of 75 and "5e" an emptied field
            (no limit): see TextField. The form checks them (validateForm). */}
        <div class="grid-2">
          <TextField
            label="Timeout (ms)"
            inputMode="numeric"
            name="timeoutMs"
            value={form.timeoutMs}
            onInput={(v) => set('timeoutMs', v)}
            error={errors.timeoutMs}
            placeholder={hints.timeoutPlaceholder}
            hint={hints.timeout}
          />
          <TextField
            label="Retry schedule (seconds)"
            name="retrySchedule"
            value={form.retrySchedule}
            onInput={(v) => set('retrySchedule', v)}
            error={errors.retrySchedule}
            placeholder={hints.schedulePlaceholder}
            hint={hints.schedule}
            spellcheck={false}
          />
          <TextField
            label="Rate limit (requests per second)"
            inputMode="decimal"
            name="ratePerSecond"
            value={form.ratePerSecond}
            onInput={(v) => set('ratePerSecond', v)}
            error={errors.ratePerSecond}
            hint="Empty: no limit."
          />
          <TextField
            label="Burst"
            inputMode="numeric"
            name="rateBurst"
            value={form.rateBurst}
            onInput={(v) => set('rateBurst', v)}
            error={errors.rateBurst}
            hint="Requests allowed at once; defaults to the rate."
          />
        </div>
      </fieldset>

      <ErrorBanner error={submitError} />
      <div class="actions">
        <button type="submit" class="button-primary" disabled={busy}>
          {busy ? 'Saving…' : endpoint ? 'Save changes' : 'Create endpoint'}
        </button>
        {!endpoint && <Link to={base}>Cancel</Link>}
      </div>
    </form>
  );
}
