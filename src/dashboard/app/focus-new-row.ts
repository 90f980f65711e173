/**
 * Where the keyboard focus goes when "Show more" has added rows to a list: the first new row's first
 * link, or the row itself (made focusable from script only) when it has none, so a screen reader
 * reads on from there. Only when the focus is nowhere (on <body>, where the busy button left it) or
 * still on the list's own "Show more" part: a user who went elsewhere meanwhile is left there.
 */
export function focusFirstNewRow(rows: HTMLElement | null, index: number): void {
  const row = rows?.children[index];
  if (!(row instanceof HTMLElement)) return;
  const focus = document.activeElement;
  const lost = focus === null || focus === document.body || focus.closest('.list-stopped') !== null;
  if (!lost) return;
  const link = row.querySelector<HTMLElement>('a[href]');
  if (link) {
    link.focus();
    return;
  }
  row.tabIndex = -1;
  row.focus();
}
