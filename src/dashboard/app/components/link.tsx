/** An <a> that navigates inside the app without a reload (modifier clicks still open new tabs). */
import type { ComponentChildren } from 'preact';
import { href, navigate } from '../router.ts';

export function Link({
  to,
  children,
  current,
  class: className,
}: {
  to: string;
  children: ComponentChildren;
  /**
   * true or 'page': the page shown; 'location': a place that holds it (the top bar's Projects on a
   * project's pages), which is not the page itself.
   */
  current?: boolean | 'page' | 'location';
  class?: string;
}) {
  function onClick(event: MouseEvent) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  }
  return (
    <a
      href={href(to)}
      onClick={onClick}
      class={className}
      aria-current={current === true ? 'page' : current || undefined}
    >
      {children}
    </a>
  );
}
