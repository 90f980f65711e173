/**
 * Headless Chromium for the browser tests: Debian's, at /usr/bin/chromium (`apt-get install -y
 * chromium`), driven by playwright-core. It reaches nothing but loopback: every host name fails to
 * resolve except localhost and 127.0.0.1, so no DNS query or request leaves the machine, and
 * nothing of its own (updates, sync, QUIC probes) runs in the background.
 */
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchLoopbackChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      '--disable-sync',
    ],
  });
}

export interface WatchedPageOptions {
  viewport?: { width: number; height: number };
  /** The page's time zone (an IANA name); the machine's when unset. */
  timezoneId?: string;
  /** Each Playwright wait's limit. */
  timeout: number;
  /** Console errors to let pass (a 401 the page asks for on purpose); read at each message. */
  ignoreConsole?: () => RegExp | null;
}

/**
 * A page in a fresh context (its own sessionStorage) that may reach only 127.0.0.1: any other
 * request is aborted and recorded in `problems`, as are console errors and uncaught page errors,
 * for the test to assert that none came. Close the returned context when done.
 */
export async function watchedPage(
  browser: Browser,
  problems: string[],
  options: WatchedPageOptions,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
  });
  // Only loopback: anything else the page tries is a bug (no CDN, no fonts).
  await context.route(/^(?!http:\/\/127\.0\.0\.1[:/])/, (route) => {
    problems.push(`request outside the server: ${route.request().url()}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(options.timeout);
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (options.ignoreConsole?.()?.test(message.text())) return;
    problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page };
}

/**
 * The error shown for a form control: the text of the field errors its aria-describedby names, when
 * it is marked aria-invalid; null when it is not.
 */
export async function errorOf(control: Locator): Promise<string | null> {
  return control.evaluate((element) => {
    if (element.getAttribute('aria-invalid') !== 'true') return null;
    return (element.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id))
      .filter((node) => node?.classList.contains('field-error'))
      .map((node) => node?.textContent ?? '')
      .join(' ');
  });
}

/** What Chromium's accessibility tree gives a screen reader for an element. */
export interface Accessible {
  role: string;
  name: string;
  /** aria-busy, as Chromium took it. */
  busy: boolean;
}

/**
 * The accessible role, name and busy state Chromium computed for the first element `selector`
 * matches (Accessibility.getPartialAXTree over CDP): what a screen reader is told, not the DOM's
 * text (an ellipsis whose title says "Loading" reads as whatever Chromium makes of it).
 */
export async function accessibleOf(page: Page, selector: string): Promise<Accessible> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    if (!nodeId) throw new Error(`no element matches ${selector}`);
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
    const node = nodes[0];
    const busy = node?.properties?.find((property) => property.name === 'busy');
    return {
      role: String(node?.role?.value ?? ''),
      name: String(node?.name?.value ?? ''),
      busy: Boolean(busy?.value.value), // Chromium gives 1
    };
  } finally {
    await cdp.detach();
  }
}
