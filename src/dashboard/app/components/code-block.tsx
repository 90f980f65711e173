/** Preformatted text (JSON, headers, bodies) with a copy button and an accessible name. */
import { CopyButton } from './copy-button.tsx';

export function CodeBlock({
  label,
  text,
  empty = '(empty)',
}: {
  label: string;
  text: string;
  empty?: string;
}) {
  return (
    <figure class="code">
      <figcaption>
        <span>{label}</span>
        {text && <CopyButton text={text} what={label} />}
      </figcaption>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard */}
      <pre tabIndex={0}>{text || <span class="muted">{empty}</span>}</pre>
    </figure>
  );
}
