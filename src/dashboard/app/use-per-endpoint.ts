/**
 * A figure read for each endpoint of a list (its success rate, what waits for it): every endpoint
 * shown, those read later ("Show more") too, CHUNK at a time so that 2,000 endpoints do not send
 * 2,000 requests at once, the map growing as each chunk answers. `null`: that endpoint's read
 * failed; absent: not read yet. Another `scope` (the list read again: Refresh) reads them all again.
 */
import { useEffect, useState } from 'preact/hooks';

/** Endpoints read at once. */
const CHUNK = 50;

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
  const results = state.scope === scope ? state.results : new Map<string, T | null>();
  const missing = ids.filter((id) => !results.has(id));
  const wanted = missing.join(',');
  useEffect(() => {
    if (missing.length === 0) return;
    let cancelled = false;
    (async () => {
      for (let from = 0; from < missing.length && !cancelled; from += CHUNK) {
        const chunk = missing.slice(from, from + CHUNK);
        const answers = await Promise.allSettled(chunk.map(read));
        if (cancelled) return;
        setState((previous) => {
          const next = new Map(previous.scope === scope ? previous.results : []);
          answers.forEach((answer, index) => {
            next.set(chunk[index]!, answer.status === 'fulfilled' ? answer.value : null);
          });
          return { scope, results: next };
        });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [scope, wanted]);
  return { results, loading: missing.length > 0 };
}
