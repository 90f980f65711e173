/**
 * A figure read for each endpoint of a list (its success rate, what waits for it), for the endpoints
 * `ids` names: the list's rows in and near the window (use-visible-rows.ts), not every row of it.
 * They are read CHUNK at a time, in the order given, the map growing as each chunk answers; those
 * named later (scrolled into view, read by "Show more") are read by the next chunks, and an id no
 * longer named when its chunk comes (scrolled past) waits until it is named again. A figure read is
 * kept while its row is out of view. `null`: that endpoint's read failed; absent: not read yet.
 * Another `scope` (the list read again: Refresh) reads them again, those named from then on.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

/** Endpoints read at once. */
const CHUNK = 50;
/** No scope is read any more: the list was left. */
const LEFT = Symbol('left');

export interface PerEndpoint<T> {
  results: ReadonlyMap<string, T | null>;
  /** Some endpoint named is still being read. */
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
  // missing, and the read under way, which goes on to the next chunk, must not send them again.
  const asked = useRef<{ scope: unknown; ids: Set<string> }>({ scope, ids: new Set() });
  if (asked.current.scope !== scope) asked.current = { scope, ids: new Set() };
  // The ids named at the last render: where each chunk is taken from.
  const named = useRef(ids);
  named.current = ids;
  // The scope being read; reads for another one (or once the list is left) stop.
  const reading = useRef<unknown>(scope);
  // The scope whose chunks are being read (one after the other), if any.
  const running = useRef<unknown>(null);
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
    // A read under way takes the ids named now with its next chunk.
    if (unasked.length === 0 || running.current === scope) return;
    running.current = scope;
    const sent = asked.current.ids;
    void (async () => {
      try {
        while (reading.current === scope) {
          const chunk = named.current.filter((id) => !sent.has(id)).slice(0, CHUNK);
          if (chunk.length === 0) return;
          for (const id of chunk) sent.add(id);
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
      } finally {
        if (running.current === scope) running.current = null;
      }
    })();
  }, [scope, wanted]);
  return { results, loading: missing.length > 0 };
}
