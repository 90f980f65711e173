/**
 * Copies text to the clipboard and says so; asks to select the text when the browser refuses. `what`
 * it copies ends its accessible name, out of sight ("Copy" + "Request body"): a page with several
 * had as many buttons all named "Copy" in a screen reader's list of buttons.
 */
import { useState } from 'preact/hooks';

export function CopyButton({ text, label = 'Copy', what }: { text: string; label?: string; what?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await copyText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.setTimeout(() => setState('idle'), 2000);
  }
  return (
    <button type="button" class="button-small" onClick={copy} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text' : label}
      {state === 'idle' && what && <span class="sr-only"> {what}</span>}
    </button>
  );
}

/**
 * The Clipboard API exists only in a secure context: a dashboard served over plain http from any
 * host but localhost (http://herald.internal:8080, a LAN address) has no navigator.clipboard, and an
 * iframe may lack the permission. There the text is copied the older way, from a selected hidden
 * textarea during the click, and the focus goes back to where it was (the button).
 */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused (no permission): the older way may still work.
    }
  }
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const area = document.createElement('textarea');
  area.value = text;
  area.readOnly = true;
  area.setAttribute('aria-hidden', 'true');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  focused?.focus();
  if (!copied) throw new Error('the browser refused to copy');
}
