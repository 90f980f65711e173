/** Edits custom request headers as name/value rows (added to every request of the endpoint). */
import { useId, useRef } from 'preact/hooks';
import type { HttpMethod, SignatureConfig } from '../api/types.ts';
import { isolate } from '../bidi-isolate.ts';
import { type HeaderRow, headerRowsProblem } from '../header-rows.ts';
import { LIMITS, lengthError } from '../limits.ts';

export function HeadersEditor({
  rows,
  signature,
  method,
  onChange,
  serverError,
  invalidName,
}: {
  rows: HeaderRow[];
  /** The endpoint's signature settings as the form holds them: they reserve header names too. */
  signature: SignatureConfig;
  /** The endpoint's method as the form holds it: with the scheme, what a Content-Type may say. */
  method?: HttpMethod | undefined;
  onChange: (rows: HeaderRow[]) => void;
  /** Why the server refused the headers (shown when the rows have no error of their own). */
  serverError?: string | null | undefined;
  /** The header the server's error is about: its row is marked invalid. */
  invalidName?: string | null | undefined;
}) {
  const id = useId();
  const addRef = useRef<HTMLButtonElement>(null);
  /**
   * Rows are drawn by position: removing one leaves the focus on the Remove button in its place,
   * now the next row's; removing the last takes the button away, and the focus to Add header.
   */
  const remove = (index: number) => {
    if (index === rows.length - 1) addRef.current?.focus();
    onChange(rows.filter((_, i) => i !== index));
  };
  const problem = headerRowsProblem(rows, signature, method);
  const ownError = problem?.message ?? null;
  /** The input the rows' own error is about (a bad, reserved or repeated name, a value on two lines). */
  const marked = (index: number, input: 'name' | 'value') =>
    problem?.row === index && problem.input === input ? true : undefined;
  const error = ownError ?? serverError ?? null;
  const update = (index: number, patch: Partial<HeaderRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset class="field" aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}>
      <legend>Custom headers</legend>
      <p class="hint" id={`${id}-hint`}>
        Sent with every request, e.g. an authorization token your receiver expects. They cannot replace the
        signature headers.
      </p>
      {rows.length === 0 && <p class="muted">No custom headers.</p>}
      {rows.map((row, index) => {
        const invalid = serverError && invalidName && row.name.trim() === invalidName ? true : undefined;
        return (
          <div class="header-row" key={index}>
            <input
              aria-label={`Header ${index + 1} name`}
              placeholder="Header-Name"
              value={row.name}
              spellcheck={false}
              aria-invalid={
                invalid ||
                marked(index, 'name') ||
                (lengthError(row.name, LIMITS.headerName) ? true : undefined)
              }
              aria-describedby={error ? `${id}-error` : undefined}
              onInput={(e) => update(index, { name: e.currentTarget.value })}
            />
            <input
              aria-label={`Header ${index + 1} value`}
              placeholder="value"
              value={row.value}
              spellcheck={false}
              aria-invalid={
                invalid ||
                marked(index, 'value') ||
                (lengthError(row.value, LIMITS.headerValue) ? true : undefined)
              }
              aria-describedby={error ? `${id}-error` : undefined}
              onInput={(e) => update(index, { value: e.currentTarget.value })}
            />
            <button
              type="button"
              class="button-small"
              aria-label={`Remove header ${isolate(row.name) || index + 1}`}
              onClick={() => remove(index)}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        class="button-small"
        ref={addRef}
        onClick={() => onChange([...rows, { name: '', value: '' }])}
      >
        Add header
      </button>
      {error && (
        // The rows' own error shows as one types; the server's comes after saving: announce it.
        <p class="field-error" id={`${id}-error`} role={ownError ? undefined : 'alert'}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
