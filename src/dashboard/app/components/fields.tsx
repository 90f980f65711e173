/**
 * Labelled form controls. Every control has a visible <label>; hints and errors are tied to it with
 * aria-describedby so screen readers read them with the field.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { fromLocalInput, fromLocalInputEnd, toLocalInput } from '../format.ts';
import { LIMITS, lengthError } from '../limits.ts';

interface Common {
  label: string;
  hint?: ComponentChildren;
  error?: string | null;
  required?: boolean;
}

/**
 * Moves the focus to the first field of `form` marked invalid, once the render that marks it is
 * done, so a keyboard or screen-reader user lands on it (from the submit button, far below); when
 * no field is (an error by no control), scrolls to the first error.
 */
export function focusFirstError(form: Element | null) {
  window.requestAnimationFrame(() => {
    const invalid = form?.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (invalid) invalid.focus();
    else form?.querySelector('.field-error')?.scrollIntoView({ block: 'center' });
  });
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function Help({ id, hint, error }: { id: string; hint?: ComponentChildren; error?: string | null }) {
  return (
    <>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </>
  );
}

export function TextField({
  label,
  hint,
  error,
  required,
  value,
  onInput,
  type = 'text',
  placeholder,
  name,
  multiline,
  autoComplete,
  inputMode,
  spellcheck,
  maxLength,
}: Common & {
  value: string;
  onInput: (value: string) => void;
  /**
   * No `number`: such an input changes what is typed without a word (Chromium drops the comma of
   * "7,5", which reads 75) and holds '' for text it cannot read ("5e"), which a form cannot tell
   * from an emptied field. Numbers are text with an `inputMode`, checked by the form.
   */
  type?: 'text' | 'url' | 'password' | 'datetime-local' | 'search';
  placeholder?: string;
  name?: string;
  multiline?: boolean;
  autoComplete?: string;
  inputMode?: 'numeric' | 'decimal' | 'text' | 'url';
  spellcheck?: boolean;
  /**
   * The API's limit for the field (docs/api.md "Limits"): longer text stays in the field, which says
   * how much too long it is (see limits.ts); it is not a maxlength that cuts a paste silently.
   */
  maxLength?: number;
}) {
  const id = useId();
  const tooLong = lengthError(value, maxLength);
  const shown = error || tooLong;
  const shared = {
    id,
    name,
    value,
    required,
    placeholder,
    spellcheck,
    'data-over-limit': tooLong ? true : undefined,
    'aria-invalid': shown ? true : undefined,
    'aria-describedby': describedBy(id, hint, shown),
  };
  return (
    <div class="field">
      <label for={id}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      {multiline ? (
        <textarea {...shared} rows={3} onInput={(e) => onInput(e.currentTarget.value)} />
      ) : (
        <input
          {...shared}
          // Preact's typings split <input> by `type`; a union of types is not narrowed, so name one.
          type={type as 'text'}
          autoComplete={autoComplete}
          inputMode={inputMode}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      )}
      <Help id={id} hint={hint} error={shown} />
    </div>
  );
}

export function SelectField<T extends string>({
  label,
  hint,
  error,
  value,
  options,
  onChange,
  name,
}: Common & {
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
  name?: string;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name={name}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => onChange(e.currentTarget.value as T)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

export function CheckboxField({
  label,
  hint,
  error,
  checked,
  onChange,
  name,
}: Omit<Common, 'required'> & {
  checked: boolean;
  onChange: (checked: boolean) => void;
  name?: string;
}) {
  const id = useId();
  return (
    <div class="field field-check">
      <input
        id={id}
        name={name}
        type="checkbox"
        checked={checked}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => onChange(e.currentTarget.checked)}
      />
      <label for={id}>{label}</label>
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

/**
 * The event-type filter of a listing: any type can be typed, not only the catalog's (events of types
 * outside it are listed too); `suggestions` are offered as one types. The filter applies on Enter, on
 * leaving the field, on picking a suggestion and on clearing it, not on every keystroke.
 */
export function TypeFilterField({
  label,
  value,
  suggestions,
  onApply,
  error,
  placeholder = 'All event types',
  hint = 'Any event type; empty for all.',
  exact = false,
}: {
  label: string;
  value: string;
  suggestions: string[];
  onApply: (type: string) => void;
  error?: string | null | undefined;
  /** For another free-text filter (an idempotency key): what the empty field and its hint say. */
  placeholder?: string;
  hint?: string;
  /**
   * The text as typed, spaces at either end included (an idempotency key, which the API stores and
   * matches exactly), rather than trimmed as a type's name is.
   */
  exact?: boolean;
}) {
  const id = useId();
  const [draft, setDraft] = useState(value);
  // The filter changed elsewhere (Clear filters, back): show it.
  useEffect(() => setDraft(value), [value]);
  const applied = (text: string) => (exact ? text : text.trim());
  const tooLong = lengthError(applied(draft), LIMITS.name);
  const shown = error || tooLong;
  const apply = (text: string) => {
    if (lengthError(applied(text), LIMITS.name)) return;
    if (applied(text) !== value) onApply(applied(text));
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="search"
        list={`${id}-types`}
        value={draft}
        placeholder={placeholder}
        spellcheck={false}
        autoComplete="off"
        data-over-limit={tooLong ? true : undefined}
        aria-invalid={shown ? true : undefined}
        aria-describedby={describedBy(id, hint, shown)}
        onInput={(e) => {
          const text = e.currentTarget.value;
          setDraft(text);
          // A suggestion picked from the list, or the field emptied with its clear button.
          const kind = (e as InputEvent).inputType;
          if (text === '' || kind === 'insertReplacementText' || kind === undefined) apply(text);
        }}
        onChange={(e) => apply(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            apply(e.currentTarget.value);
          }
        }}
      />
      <datalist id={`${id}-types`}>
        {suggestions.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <Help id={id} hint={hint} error={shown} />
    </div>
  );
}

/**
 * The From and To fields of a listing's time filter, in local time; `since` and `until` are the
 * filter's ISO times ('' for none), and a change gives the one that changed back as ISO.
 */
export function TimeRangeFields({
  since,
  until,
  onChange,
  errors,
}: {
  since: string | undefined;
  until: string | undefined;
  onChange: (change: { since: string } | { until: string }) => void;
  errors?: { since?: string | undefined; until?: string | undefined } | null | undefined;
}) {
  return (
    <>
      <TextField
        label="From"
        type="datetime-local"
        value={since ? toLocalInput(new Date(since)) : ''}
        onInput={(v) => onChange({ since: fromLocalInput(v) })}
        error={errors?.since}
      />
      <TextField
        label="To"
        type="datetime-local"
        value={until ? toLocalInput(new Date(until)) : ''}
        onInput={(v) => onChange({ until: fromLocalInputEnd(v) })}
        error={errors?.until}
      />
    </>
  );
}
