/** Loading, error, empty and success states, announced to screen readers. */
import type { ComponentChildren } from 'preact';
import { canRetry } from '../api/api-error.ts';
import { errorMessage } from '../api/error-messages.ts';

/** A spinner with a text label (role=status so it is announced). */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/**
 * An error from the API or the network, with a retry button when `onRetry` is given and trying again
 * can help (not for a request the server refused as it is: see canRetry).
 */
export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div class="banner banner-error" role="alert">
      <span>{errorMessage(error)}</span>
      {onRetry && canRetry(error) && (
        <button type="button" class="button-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/**
 * A short confirmation ("Test event queued"). Its live region stays in the page, empty, while there
 * is nothing to say: a screen reader announces text that comes into a region it already knows, and
 * may say nothing of a region added with its text.
 */
export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class={children ? 'banner banner-ok' : undefined} role="status" aria-live="polite">
      {children}
    </div>
  );
}

/** What to show instead of an empty table, with the next step to take. */
export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

/**
 * Under a list that stopped before its end (read up to a cap): says so, with how many are shown,
 * and a button that reads the next ones.
 */
export function ListStopped({
  shown,
  noun,
  which = 'first',
  busy,
  error,
  onMore,
}: {
  shown: number;
  noun: string;
  /** Which ones are shown: the first (in the list's order), the newest… */
  which?: string;
  busy: boolean;
  error: unknown;
  onMore: () => void;
}) {
  return (
    <div class="list-stopped" data-testid="list-stopped">
      <p class="muted" role="status">
        Showing the {which} {shown.toLocaleString('en-US')} {noun}; there are more.
      </p>
      <ErrorBanner error={error} onRetry={onMore} />
      <button type="button" onClick={onMore} disabled={busy}>
        {busy ? 'Loading…' : `Show more ${noun}`}
      </button>
    </div>
  );
}
