/** Loading, error, empty and success states, announced to screen readers. */
import type { ComponentChildren } from 'preact';
import { canRetry, errorMessage } from '../api/client.ts';

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

/** A short confirmation ("Test event sent"). */
export function Notice({ children }: { children: ComponentChildren }) {
  if (!children) return null;
  return (
    <div class="banner banner-ok" role="status" aria-live="polite">
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
