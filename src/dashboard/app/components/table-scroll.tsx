/**
 * A table's scroll container. On a narrow screen a table wider than the page scrolls sideways
 * inside it; then a line above it says so, a shadow on each edge that has more columns beyond it
 * shows where, and the container is a labelled, focusable region (arrow keys scroll it). At a width
 * where the table fits, none of this shows.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export function TableScroll({ label, children }: { label: string; children: ComponentChildren }) {
  const ref = useRef<HTMLElement>(null);
  const [edges, setEdges] = useState({ left: false, right: false });
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => {
      const rest = element.scrollWidth - element.clientWidth - element.scrollLeft;
      const next = { left: element.scrollLeft > 1, right: rest > 1 };
      setEdges((previous) =>
        previous.left === next.left && previous.right === next.right ? previous : next,
      );
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    const table = element.firstElementChild;
    if (table) observer.observe(table);
    element.addEventListener('scroll', measure, { passive: true });
    return () => {
      observer.disconnect();
      element.removeEventListener('scroll', measure);
    };
  }, []);
  const scrolls = edges.left || edges.right;
  const classes = ['table-frame', edges.left && 'more-left', edges.right && 'more-right'].filter(Boolean);
  return (
    <div class="table-scroll">
      {scrolls && (
        <p class="table-scroll-hint" aria-hidden="true">
          Scroll sideways for more columns <span>→</span>
        </p>
      )}
      <div class={classes.join(' ')}>
        <section
          class="table-wrap"
          ref={ref}
          aria-label={scrolls ? `${label} (scrolls sideways)` : label}
          tabIndex={scrolls ? 0 : undefined}
        >
          {children}
        </section>
      </div>
    </div>
  );
}
