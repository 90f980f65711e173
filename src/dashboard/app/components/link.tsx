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
  current?: boolean;
  class?: string;
}) {
  function onClick(event: MouseEvent) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  }
  return (
    <a href={href(to)} onClick={onClick} class={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
