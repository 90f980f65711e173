/** Edits custom request headers as name/value rows (added to every request of the endpoint). */
import { useId } from 'preact/hooks';

export interface HeaderRow {
  name: string;
  value: string;
}

/** Header names are HTTP tokens. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why a set of rows cannot be saved, or null. */
export function headerRowsError(rows: HeaderRow[]): string | null {
  const seen = new Set<string>();
  for (const row of rows) {
    const name = row.name.trim();
    if (name === '' && row.value === '') continue;
    if (!TOKEN.test(name)) return `“${name || '(empty)'}” is not a valid header name.`;
    if (/[\r\n]/.test(row.value)) return `The value of ${name} must be on one line.`;
    if (seen.has(name.toLowerCase())) return `${name} appears twice.`;
    seen.add(name.toLowerCase());
  }
  return null;
}

export function rowsToHeaders(rows: HeaderRow[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const row of rows) if (row.name.trim()) headers[row.name.trim()] = row.value;
  return headers;
}

export function headersToRows(headers: Record<string, string> | null | undefined): HeaderRow[] {
  return Object.entries(headers ?? {}).map(([name, value]) => ({ name, value }));
}

export function HeadersEditor({
  rows,
  onChange,
}: {
  rows: HeaderRow[];
  onChange: (rows: HeaderRow[]) => void;
}) {
  const id = useId();
  const error = headerRowsError(rows);
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
      {rows.map((row, index) => (
        <div class="header-row" key={index}>
          <input
            aria-label={`Header ${index + 1} name`}
            placeholder="Header-Name"
            value={row.name}
            spellcheck={false}
            onInput={(e) => update(index, { name: e.currentTarget.value })}
          />
          <input
            aria-label={`Header ${index + 1} value`}
            placeholder="value"
            value={row.value}
            spellcheck={false}
            onInput={(e) => update(index, { value: e.currentTarget.value })}
          />
          <button
            type="button"
            class="button-small"
            aria-label={`Remove header ${row.name || index + 1}`}
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
          >
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="button-small" onClick={() => onChange([...rows, { name: '', value: '' }])}>
        Add header
      </button>
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
