/**
 * A figure read for each endpoint of a list (its success rate, what waits for it): every endpoint
 * shown, those read later ("Show more") too, CHUNK at a time so that 2,000 endpoints do not send
 * 2,000 requests at once, the map growing as each chunk answers. `null`: that endpoint's read
 * failed; absent: not read yet. Another `scope` (the list read again: Refresh) reads them all again.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

/** Endpoints read at once. */
const CHUNK = 50;
/** No scope is read any more: the list was left. */
const LEFT = Symbol('left');

export interface PerEndpoint<T> {
  results: ReadonlyMap<string, T | null>;
  /** Some endpoint's figure is still being read. */
  loading: boolean;
}

export function usePerEndpoint<T>(
  ids: string[],
  read: (id: string) => Promise<T>,
  /** What the figures were read for (the list's first read): another one reads them all again. */
  scope: unknown,
): PerEndpoint<T> {
  const [state, setState] = useState<{ scope: unknown; results: Map<string, T | null> }>({
    scope,
    results: new Map(),
  });
  // The ids whose reads were sent for `scope`. Not the answers: a chunk answering changes what is
  // missing, and the read under way, which goes on to the next chunk, must not be started again
  // beside it (every endpoint after the first chunk was read twice).
  const asked = useRef<{ scope: unknown; ids: Set<string> }>({ scope, ids: new Set() });
  if (asked.current.scope !== scope) asked.current = { scope, ids: new Set() };
  // The scope being read; reads for another one (or once the list is left) stop.
  const reading = useRef<unknown>(scope);
  const results = state.scope === scope ? state.results : new Map<string, T | null>();
  const missing = ids.filter((id) => !results.has(id));
  const unasked = missing.filter((id) => !asked.current.ids.has(id));
  const wanted = unasked.join(',');
  useEffect(() => {
    reading.current = scope;
    return () => {
      reading.current = LEFT;
    };
  }, [scope]);
  useEffect(() => {
    if (unasked.length === 0) return;
    for (const id of unasked) asked.current.ids.add(id);
    void (async () => {
      for (let from = 0; from < unasked.length && reading.current === scope; from += CHUNK) {
        const chunk = unasked.slice(from, from + CHUNK);
        const answers = await Promise.allSettled(chunk.map(read));
        if (reading.current !== scope) return;
        setState((previous) => {
          const next = new Map(previous.scope === scope ? previous.results : []);
          answers.forEach((answer, index) => {
            next.set(chunk[index]!, answer.status === 'fulfilled' ? answer.value : null);
          });
          return { scope, results: next };
        });
      }
    })();
  }, [scope, wanted]);
  return { results, loading: missing.length > 0 };
}
