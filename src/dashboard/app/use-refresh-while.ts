/** Reads a screen's data again after a pause, for as long as what it shows is about to change. */
import { useEffect } from 'preact/hooks';

/**
 * Calls `reload` `ms` after each render in which `active` holds (a delivery is being sent, so its
 * Retry is held back until the attempt is recorded); nothing once it no longer holds. Each answer
 * that still holds sets the next one: at most one read is waiting at a time.
 */
export function useRefreshWhile(active: boolean, reload: () => void, ms: number, data: unknown): void {
  useEffect(() => {
    if (!active) return;
    const timer = window.setTimeout(reload, ms);
    return () => window.clearTimeout(timer);
  }, [active, reload, ms, data]);
}
