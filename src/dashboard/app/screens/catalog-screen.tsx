/** Operator-only: the installation's event catalog (names, descriptions, schemas, examples). */
import type { RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { eventTypeNameProblem, isDotSegment } from '../../../domain/event-type-name.ts';
import { parseJsonExact } from '../../../domain/json-text.ts';
import { capitalize, errorField, errorMessage, fieldMessage } from '../api/error-messages.ts';
import type { EventType, Json } from '../api/types.ts';
import { useApp } from '../app-context.ts';
import { isolate } from '../bidi-isolate.ts';
import { CodeBlock } from '../components/code-block.tsx';
import { EmptyState, ErrorBanner, ListStopped, Loading } from '../components/feedback.tsx';
import { CheckboxField, focusFirstError, TextField } from '../components/fields.tsx';
import { useInlineFormFocus } from '../components/inline-form.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { focusOverLimit, LIMITS } from '../limits.ts';
import { usePageTitle } from '../page-title.ts';
import { useCappedList } from '../use-capped-list.ts';
import { invalidateCatalog, useCatalogList } from '../use-catalog.ts';

export function CatalogScreen() {
  const { client } = useApp();
  usePageTitle(['Event catalog']);
  const catalog = useCatalogList();
  const list = useCappedList(catalog.data, (cursor) => client.listEventTypes(cursor));
  const [editing, setEditing] = useState<EventType | 'new' | null>(null);
  const newRef = useRef<HTMLButtonElement>(null);
  const { formRef, openWith } = useInlineFormFocus(
    editing === null ? null : editing === 'new' ? 'new' : `edit ${editing.name}`,
    newRef,
  );

  const saved = () => {
    invalidateCatalog(client);
    setEditing(null);
    catalog.reload();
  };

  return (
    <section class="page">
      <div class="page-head">
        <h1>Event catalog</h1>
        {editing === null && (
          <button
            type="button"
            class="button-primary"
            ref={newRef}
            onClick={openWith(() => setEditing('new'))}
          >
            New event type
          </button>
        )}
      </div>
      <p class="muted">
        The event types your platform sends. Customers pick from them, see their examples, and send them as
        test events.
      </p>
      {editing !== null && (
        <EventTypeForm
          key={editing === 'new' ? 'new' : editing.name}
          type={editing === 'new' ? null : editing}
          formRef={formRef}
          onSaved={saved}
          onCancel={() => setEditing(null)}
        />
      )}
      <ErrorBanner error={catalog.error} onRetry={catalog.reload} />
      {catalog.loading && !catalog.data && <Loading label="Loading event types…" />}
      {catalog.data?.data.length === 0 && (
        <EmptyState title="The catalog is empty">
          Add event types here or with PUT /api/v1/event-types/:name. Events of unknown types are still
          accepted unless a project enforces the catalog.
        </EmptyState>
      )}
      <ul class="catalog" ref={list.rowsRef}>
        {list.items.map((type) => (
          <li key={type.name} class="card">
            <div class="section-head">
              <h2>
                <code>{type.name}</code> {type.deprecated && <StatusBadge status="deprecated" />}
              </h2>
              <button
                type="button"
                class="button-small"
                onClick={openWith(() => setEditing(type))}
                aria-label={`Edit ${isolate(type.name)}`}
              >
                Edit
              </button>
            </div>
            {type.description ? <p>{type.description}</p> : <p class="muted">No description.</p>}
            <details>
              <summary>Example and schema</summary>
              <div class="grid-2">
                <CodeBlock label="Example payload" text={jsonText(type.example)} empty="No example." />
                <CodeBlock label="Schema" text={jsonText(type.schema)} empty="No schema." />
              </div>
            </details>
          </li>
        ))}
      </ul>
      {list.cursor && (
        <ListStopped
          shown={list.items.length}
          noun="event types"
          busy={list.busy}
          error={list.error}
          onMore={list.more}
        />
      )}
    </section>
  );
}

function jsonText(value: Json | null): string {
  return value === null ? '' : JSON.stringify(value, null, 2);
}

function parseJsonField(text: string): { value: Json | null } | { error: string } {
  if (text.trim() === '') return { value: null };
  try {
    return { value: parseJsonExact(text) as Json };
  } catch (error) {
    return { error: `Not valid JSON: ${(error as Error).message}` };
  }
}

function EventTypeForm({
  type,
  formRef,
  onSaved,
  onCancel,
}: {
  type: EventType | null;
  /** Where the catalog moves the focus when the form opens (useInlineFormFocus). */
  formRef: RefObject<HTMLFormElement | null>;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const { client } = useApp();
  const [name, setName] = useState(type?.name ?? '');
  const [description, setDescription] = useState(type?.description ?? '');
  const [example, setExample] = useState(jsonText(type?.example ?? null));
  const [schema, setSchema] = useState(jsonText(type?.schema ?? null));
  const [deprecated, setDeprecated] = useState(type?.deprecated ?? false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    if (focusOverLimit(event.currentTarget)) return;
    const found: Record<string, string> = {};
    if (!name.trim()) found['name'] = 'An event type needs a name, e.g. level.completed.';
    // fetch resolves …/event-types/.. as a path step: the PUT would go to /api/v1/, never reaching
    // the API's check of the name (an entry stored so before it is not changed here either).
    else if (isDotSegment(name.trim())) {
      const why = `${JSON.stringify(name.trim())} is not an event-type name: ${eventTypeNameProblem(name.trim())}`;
      found[type ? 'form' : 'name'] = type ? `${why}, so it cannot be changed.` : why;
    }
    const parsedExample = parseJsonField(example);
    const parsedSchema = parseJsonField(schema);
    if ('error' in parsedExample) found['example'] = parsedExample.error;
    if ('error' in parsedSchema) found['schema'] = parsedSchema.error;
    setErrors(found);
    const form = event.currentTarget as HTMLFormElement;
    if (Object.keys(found).length > 0 || 'error' in parsedExample || 'error' in parsedSchema) {
      focusFirstError(form);
      return;
    }
    setBusy(true);
    try {
      // A PUT creates or replaces: a new type under a name the catalog has would be written over
      // that type, its description, example and schema replaced by this form's.
      if (!type && (await client.getEventType(name.trim()))) {
        setErrors({ name: `${name.trim()} is already in the catalog: edit it there instead.` });
        setBusy(false);
        focusFirstError(form);
        return;
      }
      await client.putEventType(name.trim(), {
        description,
        example: parsedExample.value,
        schema: parsedSchema.value,
        deprecated,
      });
      onSaved();
    } catch (caught) {
      // `body.description`, `body.example`, `body.schema`, and `params.name` (the name, sent in the
      // path) while it is a field: next to the field; anything else below.
      const named = /^(?:body\.(description|example|schema)\b|params\.(name)$)/.exec(
        errorField(caught) ?? '',
      );
      const field = named?.[1] ?? (type ? undefined : named?.[2]);
      setErrors(field ? { [field]: capitalize(fieldMessage(caught)) } : { form: errorMessage(caught) });
      setBusy(false);
      focusFirstError(form);
    }
  }

  return (
    <form
      class="card"
      ref={formRef}
      onSubmit={submit}
      noValidate
      aria-label={type ? `Edit ${isolate(type.name)}` : 'New event type'}
    >
      {type ? (
        <h2>
          Edit <code>{type.name}</code>
        </h2>
      ) : (
        <TextField
          label="Name"
          value={name}
          onInput={setName}
          error={errors['name']}
          maxLength={LIMITS.name}
          required
          spellcheck={false}
        />
      )}
      <TextField
        label="Description"
        value={description}
        onInput={setDescription}
        error={errors['description']}
        maxLength={LIMITS.description}
        multiline
      />
      <TextField
        label="Example payload (JSON)"
        value={example}
        onInput={setExample}
        multiline
        error={errors['example']}
        spellcheck={false}
      />
      <TextField
        label="Schema (JSON Schema)"
        value={schema}
        onInput={setSchema}
        multiline
        error={errors['schema']}
        spellcheck={false}
      />
      <CheckboxField
        label="Deprecated"
        checked={deprecated}
        onChange={setDeprecated}
        hint="Still delivered, but marked in pickers."
      />
      {errors['form'] && (
        <p class="banner banner-error" role="alert">
          {errors['form']}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save event type'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
