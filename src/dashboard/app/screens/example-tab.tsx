/**
 * Example tab: for each event type the endpoint receives, its example payload, its schema, and the
 * exact request the endpoint would get (envelope, method, headers of its signature scheme). It opens on
 * the first type not deprecated; deprecated ones are listed after the others, marked so.
 */
import { useMemo, useState } from 'preact/hooks';
import { parseJsonExact } from '../../../domain/json-text.ts';
import type { Endpoint, EventType } from '../api/types.ts';
import { isolate } from '../bidi-isolate.ts';
import { CodeBlock } from '../components/code-block.tsx';
import { EmptyState, ErrorBanner, Loading } from '../components/feedback.tsx';
import { SelectField } from '../components/fields.tsx';
import { exampleTypes } from '../example-types.ts';
import { previewRequest } from '../signed-request-preview.ts';
import { useCatalog } from '../use-catalog.ts';

export function ExampleTab({ endpoint }: { endpoint: Endpoint }) {
  const catalog = useCatalog();
  const [chosen, setChosen] = useState('');

  const types: EventType[] = useMemo(
    () => exampleTypes(catalog.data ?? [], endpoint.eventTypes),
    [catalog.data, endpoint.eventTypes],
  );

  if (!catalog.data) {
    return (
      <>
        <ErrorBanner error={catalog.error} onRetry={catalog.reload} />
        {catalog.loading && <Loading label="Loading event types…" />}
      </>
    );
  }
  if (types.length === 0) {
    return (
      <EmptyState title="No event types to show">
        This endpoint receives every event type, and the catalog is empty. Event types appear here once the
        platform registers them.
      </EmptyState>
    );
  }

  const type = types.find((t) => t.name === chosen) ?? types[0]!;
  const payload = type.example ?? {};
  const request = previewRequest({
    url: endpoint.url,
    method: endpoint.method,
    envelope: endpoint.envelope,
    signature: endpoint.signature,
    headers: endpoint.headers,
    eventType: type.name,
    payload,
    now: Date.now(),
  });
  const requestHead = `${request.method} ${request.url}\n${request.headers.map(([n, v]) => `${n}: ${v}`).join('\n')}`;

  return (
    <div class="example">
      <SelectField
        label="Event type"
        value={type.name}
        options={types.map((t) => ({
          value: t.name,
          label: t.deprecated ? `${isolate(t.name)} (deprecated)` : t.name,
        }))}
        onChange={setChosen}
      />
      {type.description && <p>{type.description}</p>}
      {type.example === null && (
        <p class="muted">This event type has no example payload in the catalog; an empty object is shown.</p>
      )}
      <div class="grid-2">
        <CodeBlock label="Example payload" text={JSON.stringify(payload, null, 2)} />
        <CodeBlock
          label="Payload schema (JSON Schema)"
          text={type.schema === null ? '' : JSON.stringify(type.schema, null, 2)}
          empty="No schema registered."
        />
      </div>
      <h3>What your endpoint receives</h3>
      <p class="muted">
        {request.explanation} Values in angle brackets are computed when each request is sent.
      </p>
      <CodeBlock label="Request line and headers" text={requestHead} />
      <CodeBlock
        label="Request body"
        text={request.body === null ? '' : prettyIfJson(request.body)}
        empty="No body (GET)."
      />
    </div>
  );
}

/** Pretty-prints JSON bodies for reading (the wire body is compact). */
function prettyIfJson(body: string): string {
  try {
    return JSON.stringify(parseJsonExact(body), null, 2);
  } catch {
    return body;
  }
}
