/**
 * The dashboard for a screen-reader and keyboard-only user, in a real browser (headless Chromium)
 * against a real `herald serve`, from an accessibility review:
 * - each view has its own page title, naming what it shows (it was "Herald" on every view, so a
 *   screen reader announced nothing new and the tabs and history all read the same);
 * - the focus ring of every control reached with Tab contrasts 3:1 with what is behind it, in the
 *   light and the dark scheme (WCAG 1.4.11; the light one was 1.8:1, amber on white);
 * - the border of every text field and select, which is all that shows where it is, contrasts 3:1
 *   with the field and what is around it (WCAG 1.4.11; it was 1.36:1 in the light scheme, 1.45:1 in
 *   the dark one);
 * - an inline form (New project, New event type, Edit) takes the focus to its first field when it
 *   opens and gives it back to its button when it closes (it was left on <body>, or on an Edit
 *   button far below the form);
 * - following a link that the new page replaces (a row's link, the breadcrumbs, ← All events) puts
 *   the focus at the start of the new page's content (it was on <body>: nothing announced), as does
 *   signing in; revoking an API key, whose row then goes, puts it on the list's heading; Reveal and
 *   Hide of the signing secret keep it (each was replaced by the other); removing the last custom
 *   header puts it on Add header; Enable endpoint, whose banner goes, puts it on the page's heading;
 * - each Copy button says what it copies (an attempt's page had four buttons all named "Copy"), and
 *   each Retry now of an event's deliveries which delivery it retries; the portal link's Open says
 *   that it opens a new tab, and the top bar's Projects is the current page only on the projects
 *   (aria-current=page), the current place on a project's pages (aria-current=location);
 * - the result of a test send, a Recover, a Resend, a Retry now or a new API key is written into a
 *   live region that was in the page before (each was a new role=status element, which screen
 *   readers may not announce; Retry now's "Queued" was also gone at once, for the in-flight hint);
 * - the charts' figures, bucket by bucket, can be read as a table with the keyboard (they were only
 *   in SVG titles that a mouse pointer shows);
 * - "Show more" under a list puts the focus on the first row it added (the button is disabled while
 *   it reads and gone after the last page: the focus fell to <body>);
 * - a code block (a payload, a body), a Tab stop so that it scrolls with the keys, is a region named
 *   by its label (it was a nameless generic: the focus came to its text alone);
 * - Project settings, New project and New event type refused for a field put the focus on it (it
 *   stayed on the submit button, below).
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { accessibleOf, errorOf } from '../support/browser.ts';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-accessibility-0123456';

/** What an element is painted with, as getComputedStyle gives it ('rgb(…)'). */
interface Paint {
  /** Its tag and label or text, to name it in a failure. */
  name: string;
  focusVisible: boolean;
  outlineStyle: string;
  outlineWidth: string;
  outlineColor: string;
  borderColor: string;
  /** Its own background, or what shows through it. */
  background: string;
  /** The first opaque background of its parents: what is around it. */
  behind: string;
}

/** The Paint of `element`, or of the focused element when null. Runs in the page: self-contained. */
function paintOf(target: Element | null): Paint | null {
  const element = target ?? document.activeElement;
  if (!element || element === document.body) return null;
  const opaque = (from: Element | null) => {
    for (let at = from; at; at = at.parentElement) {
      const color = getComputedStyle(at).backgroundColor;
      if (!/^rgba\(.*,\s*0\)$|^transparent$/.test(color)) return color;
    }
    return 'rgb(255, 255, 255)';
  };
  const style = getComputedStyle(element);
  const label = (element as HTMLInputElement).labels?.[0]?.textContent ?? element.textContent ?? '';
  return {
    name: `${element.tagName} ${(element.getAttribute('aria-label') ?? label).trim().slice(0, 30)}`,
    focusVisible: element.matches(':focus-visible'),
    outlineStyle: style.outlineStyle,
    outlineWidth: style.outlineWidth,
    outlineColor: style.outlineColor,
    borderColor: style.borderTopColor,
    background: opaque(element),
    behind: opaque(element.parentElement),
  };
}

/** The WCAG contrast ratio of two opaque 'rgb(r, g, b)' colours. */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r = 0, g = 0, bl = 0] = (color.match(/[\d.]+/g) ?? []).map((c) => {
      const v = Number(c) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [light = 0, dark = 0] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

describe('dashboard accessibility (browser)', { timeout: 180_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let projectId: string;
  let endpointId: string;
  let eventId: string;
  let attemptId: string;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Moon Quest',
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    projectId = project.body.id;
    const endpoint = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${projectId}/endpoints`,
      { url: `${receiver.url}/hooks`, name: 'Receiver' },
    );
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    endpointId = endpoint.body.id;
    const sent = await api<{ id: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${projectId}/events`,
      {
        type: 'order.paid',
        payload: { order: 42 },
      },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    for (const name of ['order.paid', 'order.shipped']) {
      const type = await api(herald.url, ADMIN, 'PUT', `/api/v1/event-types/${name}`, {
        description: `An order was ${name.slice('order.'.length)}`,
        example: { order: 42 },
      });
      assert.ok(type.status === 200 || type.status === 201, JSON.stringify(type.body));
    }
    eventId = sent.body.id;
    await receiver.waitFor(1);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const attempts = await api<{ data: { id: string }[] }>(
        herald.url,
        ADMIN,
        'GET',
        `/api/v1/projects/${projectId}/endpoints/${endpointId}/attempts`,
      );
      if (attempts.body.data[0]) {
        attemptId = attempts.body.data[0].id;
        break;
      }
      assert.ok(Date.now() < deadline, 'the attempt is recorded');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await receiver?.close();
  });

  const open = async (page: Page, path: string) => {
    await page.goto(`${herald.url}/ui${path}`);
    await page.locator('h1').first().waitFor();
  };

  /**
   * Tabs through the page `presses` times and, for each control focused, measures its focus ring
   * against the first opaque background behind it; returns the rings under 3:1 (or with none).
   */
  const weakFocusRings = async (page: Page, presses: number): Promise<string[]> => {
    const weak: string[] = [];
    for (let i = 0; i < presses; i++) {
      await page.keyboard.press('Tab');
      const paint = await page.evaluate(paintOf, null);
      // A date field's own picker button, inside the field, has Chromium's ring, not the page's.
      if (!paint?.focusVisible) continue;
      let found: string | null = null;
      if (paint.outlineStyle === 'none' || Number.parseFloat(paint.outlineWidth) < 2) {
        found = `${paint.name}: no focus ring`;
      } else {
        // The ring is drawn outside the control (outline-offset): what is behind it is a parent's.
        const ratio = contrast(paint.outlineColor, paint.behind);
        if (ratio < 3)
          found = `${paint.name}: ${ratio.toFixed(2)}:1 (${paint.outlineColor} on ${paint.behind})`;
      }
      if (found && !weak.includes(found)) weak.push(found);
    }
    return weak;
  };

  test('the focus ring contrasts 3:1 with what is behind it, in the light and the dark scheme', async () => {
    // One page, loaded again in each scheme: a new context is a new renderer process (~1 s of CPU).
    const page = await dash.signedInPage();
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      // The overview has controls on the page, in cards, in a banner (Endpoint created.) and tabs.
      await open(page, `/projects/${projectId}/endpoints/${endpointId}?created=1`);
      await page.getByRole('heading', { name: 'Send a test event' }).waitFor();
      assert.deepEqual(await weakFocusRings(page, 40), [], colorScheme);
    }
    assert.deepEqual(problems, []);
  });

  test("a field's border contrasts 3:1 with the field and what is around it, in the light and the dark scheme", async () => {
    const weak: string[] = [];
    const page = await dash.signedInPage();
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      // The form's fields in fieldsets (cards), and the history's filters on the page itself.
      for (const path of [
        `/projects/${projectId}/endpoints/new`,
        `/projects/${projectId}/endpoints/${endpointId}/history`,
      ]) {
        await open(page, path);
        await page.locator('form input, .filters input').first().waitFor();
        for (const field of await page.locator('input:not([type=checkbox]), select, textarea').all()) {
          const paint = await field.evaluate(paintOf);
          assert.ok(paint);
          const ratio = Math.min(
            contrast(paint.borderColor, paint.background),
            contrast(paint.borderColor, paint.behind),
          );
          const found = `${colorScheme} ${paint.name}: ${ratio.toFixed(2)}:1`;
          if (ratio < 3 && !weak.includes(found)) weak.push(found);
        }
      }
    }
    assert.deepEqual(weak, []);
    assert.deepEqual(problems, []);
  });

  /** The focused element, as its tag and its label or text ("INPUT Name", "BUTTON Cancel"). */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const element = document.activeElement;
      if (!element || element === document.body) return 'BODY';
      const label = (element as HTMLInputElement).labels?.[0]?.textContent ?? element.textContent ?? '';
      return `${element.tagName} ${(element.getAttribute('aria-label') ?? label).replace(/\s*\*$/, '').trim()}`;
    });

  /** Presses Enter on the button named `name` and returns where the focus is then. */
  const pressEnterOn = async (page: Page, name: string) => {
    await page.getByRole('button', { name, exact: true }).focus();
    await page.keyboard.press('Enter');
    return focused(page);
  };

  test('an inline form takes the focus to its first field and gives it back to its button', async () => {
    const page = await dash.signedInPage();
    const cases = [
      ['/', 'New project', 'INPUT Name'],
      ['/catalog', 'New event type', 'INPUT Name'],
      // Edit opens the form above the list, away from the button: the focus goes there and back.
      ['/catalog', 'Edit order.shipped', 'TEXTAREA Description'],
    ] as const;
    for (const [path, opener, field] of cases) {
      await open(page, path);
      assert.equal(await pressEnterOn(page, opener), field, `${opener} opens on its first field`);
      assert.equal(
        await pressEnterOn(page, 'Cancel'),
        `BUTTON ${opener}`,
        `Cancel gives it back to ${opener}`,
      );
    }
    // Saved, too.
    await pressEnterOn(page, 'Edit order.shipped');
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' today');
    await pressEnterOn(page, 'Save event type');
    await page.getByText('An order was shipped today').waitFor();
    await page
      .waitForFunction(
        () => document.activeElement?.getAttribute('aria-label') === 'Edit order.shipped',
        undefined,
        { timeout: 3000 },
      )
      .catch(() => {});
    assert.equal(await focused(page), 'BUTTON Edit order.shipped', 'Saving gives it back');
    assert.deepEqual(problems, []);
  });

  test('the focus is not lost when what had it goes: a link to a new page, the sign-in form, a revoked key, Reveal, a header, Enable endpoint', async () => {
    const page = await dash.signedInPage();
    const p = `/projects/${projectId}`;
    const cases = [
      [p, 'Endpoints', 'Receiver', 'Send a test event'],
      [`${p}/events/${eventId}`, 'order.paid', '← All events', 'Events'],
      [`${p}/events`, 'Events', 'Projects', 'Projects'],
    ] as const;
    for (const [path, ready, link, next] of cases) {
      await open(page, path);
      // Loaded: the link is the page's, not the one drawn while it loads.
      await page.getByRole('heading', { name: ready }).waitFor();
      // The breadcrumbs' Projects, not the top bar's (which stays, with the focus on it).
      const target = page.getByRole('main').getByRole('link', { name: link, exact: true }).first();
      await target.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: next, exact: true }).waitFor();
      const [tag] = (await focused(page)).split(' ', 1);
      assert.equal(tag, 'MAIN', `${link}: the focus is on the new page's content`);
    }
    // Signing in replaces the sign-in form by the projects.
    const signIn = await dash.page();
    await open(signIn, '/');
    await signIn.getByLabel('Admin token').focus();
    await signIn.keyboard.type(ADMIN);
    await signIn.keyboard.press('Enter');
    await signIn.getByRole('heading', { name: 'Projects', exact: true }).waitFor();
    const [tag] = (await focused(signIn)).split(' ', 1);
    assert.equal(tag, 'MAIN', 'signed in: the focus is on the projects');
    // Revoking an API key takes its row, and the button, away.
    const made = await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${projectId}/api-keys`, {
      name: 'Game backend',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await open(page, `${p}/access`);
    assert.equal(await pressEnterOn(page, 'Revoke Game backend…'), 'BUTTON Cancel');
    await pressEnterOn(page, 'Yes, revoke Game backend');
    await page.getByText('No API keys yet.').waitFor();
    assert.equal(await focused(page), 'H3 Keys of this project', 'revoked: the focus is on the list');
    // Reveal turns into Hide, and back.
    await open(page, `${p}/endpoints/${endpointId}`);
    await pressEnterOn(page, 'Reveal');
    await page.getByRole('button', { name: 'Hide', exact: true }).waitFor();
    assert.equal(await focused(page), 'BUTTON Hide', 'revealed: the focus is on Hide');
    assert.equal(await pressEnterOn(page, 'Hide'), 'BUTTON Reveal', 'hidden: the focus is on Reveal');
    // Removing the last custom header takes its row, and its Remove button, away.
    await open(page, `${p}/endpoints/${endpointId}/settings`);
    await pressEnterOn(page, 'Add header');
    await pressEnterOn(page, 'Add header');
    await page.getByLabel('Header 1 name').fill('X-Team');
    await page.getByLabel('Header 2 name').fill('X-Game');
    // The first: the next row takes its place, and the focus is on its Remove.
    assert.equal(
      await pressEnterOn(page, 'Remove header X-Team'),
      'BUTTON Remove header X-Game',
      'first removed',
    );
    assert.equal(await page.getByLabel('Header 1 name').inputValue(), 'X-Game');
    assert.equal(await pressEnterOn(page, 'Remove header X-Game'), 'BUTTON Add header', 'last removed');
    // Enable endpoint goes with its banner: on the endpoint's page, and on an attempt's.
    const api1 = `/api/v1/projects/${projectId}/endpoints/${endpointId}`;
    for (const [path, heading] of [
      [`${p}/endpoints/${endpointId}`, 'H2 Receiver'],
      [`${p}/endpoints/${endpointId}/attempts/${attemptId}`, 'H2 Attempt #1'],
    ] as const) {
      const off = await api(herald.url, ADMIN, 'PATCH', api1, { active: false });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      await open(page, path);
      await pressEnterOn(page, 'Enable endpoint');
      // The banner goes once the endpoint is enabled (its button says Enabling… meanwhile).
      await page.locator('.banner-warn').waitFor({ state: 'detached' });
      assert.equal(
        (await focused(page)).replace(/\s+/g, ' ').slice(0, heading.length),
        heading,
        `${heading}: enabled`,
      );
    }
    // A link that stays (the endpoint's tabs) keeps it.
    await open(page, `${p}/endpoints/${endpointId}`);
    await page.getByRole('link', { name: 'History', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Refresh' }).first().waitFor();
    assert.equal(await focused(page), 'A History');
    assert.deepEqual(problems, []);
  });

  test('each Copy button names what it copies, and each Retry now the delivery it retries', async () => {
    const page = await dash.signedInPage();
    const e = `/projects/${projectId}/endpoints/${endpointId}`;
    /** The text of the page's copy buttons, which is their accessible name. */
    const names = async () =>
      (await page.getByRole('button').evaluateAll((buttons) => buttons.map((b) => b.textContent ?? '')))
        .filter((name) => /^Cop(y|ied)/.test(name))
        .sort();
    await open(page, `${e}/attempts/${attemptId}`);
    await page.getByRole('heading', { name: 'Response', exact: true }).waitFor();
    assert.deepEqual(await names(), [
      'Copy Request body',
      'Copy Request line and headers',
      'Copy Response body (first 64 KiB)',
      'Copy Status and headers',
    ]);
    // The accessible name is the text: the button is found by it.
    await page.getByRole('button', { name: 'Copy Request body', exact: true }).waitFor();
    await open(page, `/projects/${projectId}/events/${eventId}`);
    await page.getByRole('button', { name: 'Copy Payload', exact: true }).waitFor();
    // The event's deliveries: a Retry now in each row, named by the row's endpoint.
    await page.getByRole('button', { name: 'Retry now to Receiver', exact: true }).waitFor();
    await open(page, e);
    await page.getByRole('button', { name: 'Reveal' }).click();
    await page.getByRole('button', { name: 'Copy signing secret', exact: true }).waitFor();
    assert.deepEqual(problems, []);
  });

  /**
   * Presses Enter on the button named `name` and waits for `result`; returns whether the text came
   * into a live region that was in the page before the press (an added one may go unannounced).
   */
  const announcedInPlace = async (page: Page, name: string, result: RegExp) => {
    await page.evaluate(() => {
      for (const region of document.querySelectorAll<HTMLElement>('[role=status], [aria-live]')) {
        region.dataset['before'] = 'yes';
      }
    });
    await pressEnterOn(page, name);
    const shown = page.getByText(result);
    await shown.waitFor();
    return shown.evaluate((element) => {
      const region = element.closest<HTMLElement>('[role=status], [aria-live=polite]');
      return region ? (region.dataset['before'] ?? 'added with the text') : 'no live region';
    });
  };

  test('the result of a test send, a Recover, a Resend, a Retry now or a new API key is announced by a live region already there', async () => {
    const page = await dash.signedInPage();
    const e = `/projects/${projectId}/endpoints/${endpointId}`;
    await open(page, e);
    await page.getByRole('heading', { name: 'Send a test event' }).waitFor();
    assert.equal(
      await announcedInPlace(page, 'Send test event', /^Test event .* queued/),
      'yes',
      'test send',
    );
    assert.equal(await announcedInPlace(page, 'Recover', /queued again\.$/), 'yes', 'Recover');
    await open(page, `${e}/attempts/${attemptId}`);
    await page.getByRole('heading', { name: 'Response', exact: true }).waitFor();
    assert.equal(await announcedInPlace(page, 'Resend', /^Delivery queued again/), 'yes', 'Resend');
    await open(page, `/projects/${projectId}/events/${eventId}`);
    await page.getByRole('button', { name: 'Retry now to Receiver', exact: true }).waitFor();
    assert.equal(await announcedInPlace(page, 'Retry now to Receiver', /^\s*Queued$/), 'yes', 'Retry now');
    // It stays once the row, read again, says the delivery is being sent (or sent).
    await page
      .getByText(/^\s*(Being sent now|Sent)/)
      .or(page.getByRole('button', { name: /^Retry now/, disabled: false }))
      .first()
      .waitFor();
    await page.waitForTimeout(300);
    assert.equal(await page.getByText(/^\s*Queued$/).count(), 1, 'Queued is still shown');
    await open(page, `/projects/${projectId}/access`);
    await page.getByLabel('Key name').fill('Announced key');
    assert.equal(
      await announcedInPlace(page, 'Create API key', /^Copy this key now: it is shown only once\.$/),
      'yes',
      'new API key',
    );
    assert.deepEqual(problems, []);
  });

  test('"Show more" puts the focus on the first row it added, also when it read the last page', async () => {
    // A page of waiting deliveries is 20 (WAITING_PAGE): 23 wait, held back by a rate limit of one
    // request a day (the first is refused: a port nothing listens on).
    const projectPath = await newProject(herald, ADMIN, 'Show more');
    const quiet = await quietEndpoint(herald, ADMIN, projectPath, {
      name: 'Nobody home',
      rateLimit: { perSecond: 1 / 86_400, burst: 1 },
    });
    for (let i = 0; i < 23; i++) {
      const sent = await api(herald.url, ADMIN, 'POST', `${projectPath}/events`, {
        type: 'order.paid',
        payload: { order: i },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
    }
    // All 23 are waiting before the page reads them (the list is not read again meanwhile).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const waiting = await api<{ counts: { pending: number } }>(
        herald.url,
        ADMIN,
        'GET',
        `${projectPath}/endpoints/${quiet}/deliveries?status=pending`,
      );
      if (waiting.body.counts.pending === 23) break;
      assert.ok(Date.now() < deadline, `23 pending: ${JSON.stringify(waiting.body.counts)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const page = await dash.signedInPage();
    await open(page, `${projectPath.replace('/api/v1', '')}/endpoints/${quiet}`);
    const card = page.getByRole('region', { name: 'Waiting deliveries' });
    const rows = card.locator('tbody tr');
    await rows.nth(19).waitFor();
    await pressEnterOn(page, 'Show more pending deliveries');
    // The last page: the button goes, with what says there are more (the button was disabled, and
    // named Loading…, while it read: the focus left it then).
    await card.getByTestId('list-stopped').waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 23);
    const first = (await rows.nth(20).getByRole('link').innerText()).trim();
    await page
      .waitForFunction((want) => document.activeElement?.textContent?.trim() === want, first, {
        timeout: 3000,
      })
      .catch(() => {});
    assert.equal(await focused(page), `A ${first}`);
    assert.deepEqual(problems, []);
  });

  test("the portal link's Open says it opens a new tab; the top bar's Projects is the page only on the projects", async () => {
    const page = await dash.signedInPage();
    await open(page, `/projects/${projectId}/access`);
    await page.getByRole('button', { name: 'Create portal link' }).click();
    const opener = page.getByRole('link', { name: 'Open (opens in a new tab)', exact: true });
    await opener.waitFor();
    assert.equal(await opener.getAttribute('target'), '_blank');
    const projects = page.getByRole('banner').getByRole('link', { name: 'Projects', exact: true });
    const cases = [
      ['/', 'page'],
      [`/projects/${projectId}`, 'location'],
      [`/projects/${projectId}/access`, 'location'],
      [`/projects/${projectId}/endpoints/${endpointId}/history`, 'location'],
      ['/catalog', null],
    ] as const;
    for (const [path, current] of cases) {
      await open(page, path);
      assert.equal(await projects.getAttribute('aria-current'), current, path);
    }
    assert.deepEqual(problems, []);
  });

  test("the charts' figures can be opened as a table with the keyboard", async () => {
    const page = await dash.signedInPage();
    await open(page, `/projects/${projectId}/endpoints/${endpointId}`);
    const figures = page.getByText('Show the figures as a table');
    await figures.focus();
    await page.keyboard.press('Enter');
    const table = page.getByRole('table', { name: 'Attempts and latency over time' });
    await table.waitFor();
    // The last 24 hours, by the hour: one row each, with what the chart's legend totals (the
    // attempts made so far, by this test and others of the file).
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
    assert.ok(rows.length >= 24 && rows.length <= 25, `${rows.length} rows`);
    const legend = async (kind: string) =>
      Number((await page.locator(`.legend-${kind}`).innerText()).replace(/\D/g, ''));
    const column = (index: number) => rows.reduce((sum, row) => sum + Number(row[index]), 0);
    const succeeded = await legend('ok');
    assert.ok(succeeded >= 1, 'the attempt made before the test is counted');
    assert.equal(column(1), succeeded);
    assert.equal(column(2), await legend('bad'));
    const busy = rows.find((row) => Number(row[1]) + Number(row[2]) > 0);
    assert.match(busy?.[3] ?? '', /^\d+ ms$/, 'an hour with attempts has their average duration');
    assert.deepEqual(await table.locator('thead th').allTextContents(), [
      'From',
      'Succeeded',
      'Failed',
      'Average',
      'p95',
    ]);
    assert.deepEqual(problems, []);
  });

  test('a code block reached with Tab is a region named for what it holds', async () => {
    const page = await dash.signedInPage();
    await open(page, `/projects/${projectId}/events/${eventId}`);
    const payload = page.locator('figure.code pre');
    await payload.waitFor();
    await page.getByRole('button', { name: 'Copy Payload' }).focus();
    await page.keyboard.press('Tab');
    assert.equal(await payload.evaluate((element) => element === document.activeElement), true);
    // What a screen reader says as the focus comes to it (it was a nameless generic: only its text).
    const { role, name } = await accessibleOf(page, 'figure.code pre');
    assert.deepEqual({ role, name }, { role: 'region', name: 'Payload' });
    assert.deepEqual(problems, []);
  });

  test("Project settings refused for a field's value puts the focus on that field, its error read with it", async () => {
    const page = await dash.signedInPage();
    await open(page, `/projects/${projectId}/settings`);
    const form = page.getByRole('form', { name: 'Project settings' });
    const schedule = form.getByLabel('Retry schedule (seconds)');
    await schedule.fill('5, soon');
    const save = form.getByRole('button', { name: 'Save settings' });
    await save.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    assert.equal(await schedule.evaluate((element) => element === document.activeElement), true);
    assert.match((await errorOf(schedule)) ?? '', /^Seconds above 0 separated by commas/);
    // Refused by the API (the form does not check a UID's form): the field it names, as well.
    await schedule.fill('');
    const uid = form.getByLabel('UID');
    dash.expectConsole = /400/;
    await uid.fill('Not a UID!');
    await save.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    assert.equal(await uid.evaluate((element) => element === document.activeElement), true);
    assert.ok(await errorOf(uid), "the API's words by the field");
    assert.deepEqual(problems, []);
  });

  test('New project and New event type refused for a field put the focus on that field', async () => {
    const page = await dash.signedInPage();
    const submitRefused = async (button: string) => {
      await page.getByRole('button', { name: button }).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
    };
    await open(page, '/');
    await page.getByRole('button', { name: 'New project' }).click();
    const project = page.getByRole('form', { name: 'New project' });
    await project.getByLabel('Name').fill('Refused');
    const uid = project.getByLabel('UID (optional)');
    await uid.fill('Not a UID!');
    dash.expectConsole = /400/;
    await submitRefused('Create project'); // refused by the API
    assert.equal(await uid.evaluate((element) => element === document.activeElement), true);
    assert.ok(await errorOf(uid));

    await open(page, '/catalog');
    await page.getByRole('button', { name: 'New event type' }).click();
    const type = page.getByRole('form', { name: 'New event type' });
    await type.getByLabel(/^Name/).fill('a11y.refused');
    const example = type.getByLabel(/^Example payload/);
    await example.fill('{not json');
    await submitRefused('Save event type'); // refused by the form
    assert.equal(await example.evaluate((element) => element === document.activeElement), true);
    assert.ok(await errorOf(example));
    assert.deepEqual(problems, []);
  });

  test('each view has a page title of its own, most specific first', async () => {
    const page = await dash.page();
    await open(page, '/');
    assert.equal(await page.title(), 'Sign in · Herald');
    await open(page, '/portal');
    assert.equal(await page.title(), 'Link no longer valid · Herald');

    const signedIn = await dash.signedInPage();
    const p = `/projects/${projectId}`;
    const e = `${p}/endpoints/${endpointId}`;
    const views: [path: string, heading: string, title: string][] = [
      ['/', 'Projects', 'Projects · Herald'],
      ['/catalog', 'Event catalog', 'Event catalog · Herald'],
      [p, 'Endpoints', 'Endpoints · Moon Quest · Herald'],
      [`${p}/events`, 'Events', 'Events · Moon Quest · Herald'],
      [`${p}/events/${eventId}`, 'order.paid', 'Event order.paid · Moon Quest · Herald'],
      [`${p}/access`, 'Customer portal', 'Access · Moon Quest · Herald'],
      [`${p}/endpoints/new`, 'New endpoint', 'New endpoint · Moon Quest · Herald'],
      [e, 'Receiver', 'Overview · Receiver · Moon Quest · Herald'],
      [`${e}/example`, 'Receiver', 'Example · Receiver · Moon Quest · Herald'],
      [`${e}/history`, 'Receiver', 'History · Receiver · Moon Quest · Herald'],
      [`${e}/settings`, 'Receiver', 'Settings · Receiver · Moon Quest · Herald'],
      [`${e}/attempts/${attemptId}`, 'Attempt #1', 'Attempt #1 · Receiver · Moon Quest · Herald'],
      [`${e}/nothing-here`, 'Not found', 'Not found · Herald'],
      ['/nowhere', 'Not found', 'Not found · Herald'],
    ];
    for (const [path, heading, title] of views) {
      await open(signedIn, path);
      await signedIn.getByRole('heading', { name: heading }).first().waitFor();
      await signedIn
        .waitForFunction((want) => document.title === want, title, { timeout: 3000 })
        .catch(() => {});
      assert.equal(await signedIn.title(), title, path);
    }
    // Following a link inside the app (no reload) changes it too.
    await open(signedIn, p);
    await signedIn.getByRole('link', { name: 'Events', exact: true }).click();
    await signedIn
      .waitForFunction(() => document.title.startsWith('Events ·'), undefined, { timeout: 3000 })
      .catch(() => {});
    assert.equal(await signedIn.title(), 'Events · Moon Quest · Herald');
    assert.deepEqual(problems, []);
  });
});

/**
 * Recover and Replay stop short of a long range (a request makes at most so many deliveries, and
 * runs at most about 20 s) and answer where to go on (nextSince). The panel said "replay again from
 * <time>" but left its field where it was, so pressing the button again started over: the field is
 * now set to that time, to the millisecond behind the minute the field shows.
 */
describe('Recover and Replay go on where they stopped (browser)', { timeout: 120_000 }, () => {
  // Two deliveries a request: a replay of three events stops after two.
  const dash = useDashboardBrowser({ adminToken: ADMIN, env: { HERALD_MAX_DELIVERIES_PER_REQUEST: '2' } });

  test('a replay that stopped short sets "Events since" to where it stopped; pressing Replay again goes on', async () => {
    const { herald } = dash;
    const projectPath = await newProject(herald, ADMIN, 'Replays');
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = await api<{ id: string; createdAt: string }>(
        herald.url,
        ADMIN,
        'POST',
        `${projectPath}/events`,
        {
          type: 'order.paid',
          payload: { order: i },
        },
      );
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      created.push(sent.body.createdAt);
    }
    // Added after the events: it has no delivery of any of them.
    const late = await quietEndpoint(herald, ADMIN, projectPath, { name: 'Late' });
    const page = await dash.page({ signedIn: true });
    await page.goto(`${herald.url}/ui${projectPath.replace('/api/v1', '')}/endpoints/${late}`);
    const panel = page.getByRole('form', { name: 'Replay missed events' });
    const field = panel.getByLabel('Events since');
    await field.waitFor();
    const before = await field.inputValue();
    await panel.getByRole('button', { name: 'Replay', exact: true }).click();
    await panel.getByText(/^2 missed events queued/).waitFor();
    // Where it stopped: the third event, as the field shows a time (to the minute, local).
    const third = created[2];
    assert.ok(third, 'the third event was accepted');
    const expected = await page.evaluate((iso) => {
      const date = new Date(iso);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    }, third);
    assert.notEqual(expected, before);
    assert.equal(await field.inputValue(), expected, 'the field is where the replay stopped');
    assert.match(
      await panel.getByText(/^2 missed events queued/).innerText(),
      /press Replay again for the rest\.$/,
    );
    await panel.getByRole('button', { name: 'Replay', exact: true }).click();
    await panel.getByText(/^1 missed event queued for this endpoint\.$/).waitFor();
    assert.deepEqual(dash.problems, []);
  });
});
