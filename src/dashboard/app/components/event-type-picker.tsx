/**
 * Picks the event types an endpoint subscribes to from the catalog, each with its description.
 * Nothing picked means every type. Types not (or no longer) in the catalog can be typed in, unless
 * the project enforces the catalog: the API refuses those (422), so there is no field for them.
 */
import { useId, useState } from 'preact/hooks';
import type { EventType } from '../api/types.ts';
import { LIMITS, lengthError } from '../limits.ts';

export function EventTypePicker({
  catalog,
  selected,
  onChange,
  custom,
  onCustomChange,
  error,
  enforced = false,
}: {
  catalog: EventType[];
  /** The project's enforceCatalog: only the catalog's types may be picked. */
  enforced?: boolean;
  selected: string[];
  onChange: (selected: string[]) => void;
  /**
   * What the "Other event type" field holds: the form's, which saves it with `selected` when it was
   * not added (eventTypesOf), rather than dropping it.
   */
  custom: string;
  onCustomChange: (custom: string) => void;
  /** Why the server refused the selection. */
  error?: string | null | undefined;
}) {
  const id = useId();
  const [filter, setFilter] = useState('');
  const setCustom = onCustomChange;
  const known = new Set(catalog.map((type) => type.name));
  const extra = selected.filter((name) => !known.has(name));
  const needle = filter.trim().toLowerCase();
  const shown = catalog.filter(
    (type) =>
      needle === '' ||
      type.name.toLowerCase().includes(needle) ||
      type.description.toLowerCase().includes(needle),
  );
  const toggle = (name: string, on: boolean) =>
    onChange(on ? [...selected.filter((n) => n !== name), name] : selected.filter((n) => n !== name));

  const customTooLong = lengthError(custom.trim(), LIMITS.name);
  function addCustom() {
    const name = custom.trim();
    if (customTooLong) return;
    setCustom('');
    if (name && !selected.includes(name)) onChange([...selected, name]);
  }

  return (
    <fieldset class="field picker" aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}>
      <legend>Events</legend>
      <p class="hint" id={`${id}-hint`}>
        {selected.length === 0
          ? 'No filter: this endpoint receives every event type.'
          : `Receives ${selected.length} event type${selected.length === 1 ? '' : 's'}.`}{' '}
        Pick none to receive all.
      </p>
      {catalog.length > 6 && (
        <input
          type="search"
          class="picker-filter"
          aria-label="Filter event types"
          placeholder="Filter event types…"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
      )}
      {catalog.length === 0 && (
        <p class="muted">
          {enforced
            ? 'The event catalog is empty, and this project accepts only event types from it.'
            : 'The event catalog is empty: type event names below.'}
        </p>
      )}
      <ul class="picker-list">
        {shown.map((type) => (
          <li key={type.name}>
            <label>
              <input
                type="checkbox"
                checked={selected.includes(type.name)}
                onChange={(e) => toggle(type.name, e.currentTarget.checked)}
              />
              <span>
                <code>{type.name}</code>
                {type.deprecated && <span class="badge badge-muted">deprecated</span>}
                {type.description && <span class="picker-description">{type.description}</span>}
              </span>
            </label>
          </li>
        ))}
        {extra.map((name) => (
          <li key={name}>
            <label>
              <input type="checkbox" checked onChange={() => toggle(name, false)} />
              <span>
                <code>{name}</code> <span class="picker-description">not in the catalog</span>
              </span>
            </label>
          </li>
        ))}
      </ul>
      {enforced ? (
        <p class="hint">This project accepts only the event types of the catalog.</p>
      ) : (
        <div class="inline-form">
          <input
            aria-label="Other event type"
            placeholder="Other event type"
            value={custom}
            spellcheck={false}
            data-over-limit={customTooLong ? true : undefined}
            aria-invalid={customTooLong ? true : undefined}
            aria-describedby={customTooLong ? `${id}-custom-error` : undefined}
            onInput={(e) => setCustom(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addCustom();
              }
            }}
          />
          <button type="button" class="button-small" onClick={addCustom} disabled={custom.trim() === ''}>
            Add
          </button>
        </div>
      )}
      {customTooLong && (
        <p class="field-error" id={`${id}-custom-error`} role="alert">
          {customTooLong}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
