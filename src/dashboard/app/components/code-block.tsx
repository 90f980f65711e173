/** Preformatted text (JSON, headers, bodies) with a copy button and an accessible name. */
import { useId } from 'preact/hooks';
import { CopyButton } from './copy-button.tsx';

export function CodeBlock({
  label,
  text,
  empty = '(empty)',
  exact,
}: {
  label: string;
  text: string;
  empty?: string;
  /**
   * What `text` shows formatted (a body as it went over the wire): Copy copies this, and the block
   * says that what it shows is formatted when the two differ. A body's signature and its
   * Content-Length are of these bytes, not of the indented text.
   */
  exact?: string;
}) {
  const copied = exact ?? text;
  const formatted = exact !== undefined && exact !== text;
  const labelId = useId();
  return (
    <figure class="code">
      <figcaption>
        <span id={labelId}>
          {label}
          {formatted && <span class="muted"> (formatted here; Copy gives it exactly)</span>}
        </span>
        {copied && <CopyButton text={copied} what={label} />}
      </figcaption>
      {/* A Tab stop, so that it scrolls with the keys: a region named by its label, which a screen
          reader says as the focus comes to it (a nameless <pre> was read as its text alone). */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard */}
      {/* biome-ignore lint/a11y/useSemanticElements: the <pre> keeps its white space and its styles */}
      <pre tabIndex={0} role="region" aria-labelledby={labelId}>
        {text || <span class="muted">{empty}</span>}
      </pre>
    </figure>
  );
}
