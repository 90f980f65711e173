/** Loads data for a screen and keeps loading / error / data together, ignoring answers that arrive late. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (after a change); keeps showing the old data meanwhile. */
  reload(): void;
}

/** Runs `load` when `deps` change; only the newest call's result is kept. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    load().then(
      (data) => {
        if (generation.current === mine) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (generation.current === mine) setState((previous) => ({ ...previous, error, loading: false }));
      },
    );
    return () => {
      // A newer load (or unmount) makes this one's answer irrelevant.
      if (generation.current === mine) generation.current++;
    };
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
