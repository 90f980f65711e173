/**
 * The endpoint's Overview and History in a real browser (headless Chromium via playwright-core),
 * against the dashboard as built now and a canned API on loopback (newcomer report):
 * - the chart of …/stats is labelled as what it counts, attempts (it said "Deliveries");
 * - History marks the attempts of test events with a "test" badge, as the Events list does.
 * And a customer's portal test (h10):
 * - after a rotation with a grace period, the secret panel lists the older secret still valid and
 *   until when (its value only once revealed);
 * - a portal link the API refuses (revoked or expired: both 401) says it expired or was revoked;
 * - an attempt of a disabled endpoint says so and offers to enable it, with Resend disabled;
 * - a 300-character name and a 2,000-character description without spaces wrap: neither the
 *   Overview nor the endpoints list is wider than the window; nor is the event catalog with a
 *   200-character type name (it was 8,977 px wide in a 1,280 px window), and the endpoint form's
 *   event picker wraps that name rather than scroll sideways;
 * - an endpoint the API does not know (deleted) says so with a way back to the list (it said
 *   "endpoint not found" alone), and one deleted while shown says so at its next read (it went on
 *   showing it as it was).
 * And user text with bidi controls (U+202E, RIGHT-TO-LEFT OVERRIDE) does not reorder the text
 * after it: an event type in History, an endpoint's name in the endpoints list.
 * And the Example tab opens on the first event type not deprecated, the deprecated ones listed after,
 * marked so (it opened on a deprecated type the catalog listed first).
 * And where user text goes into a `<select>` option, a title or an aria-label (no element of its own,
 * so no <bdi>), right-to-left text is in an isolate (FSI … PDI) and reorders nothing around it: the
 * Example tab's and the test send's options, the endpoints list's event types (its title, and the
 * first two in the cell, which had no <bdi> either), the catalog's Edit, a key's Revoke, the header
 * editor's Remove; and the page's title, of which each part is isolated.
 * And the endpoint form's header editor refuses a header Herald sets itself, and a Content-Type
 * that does not describe the body of the form's method and scheme, in the API's words, without
 * sending the form.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  type CannedDashboard,
  cannedApiKey,
  cannedAttempt,
  cannedEndpoint,
  cannedEvent,
  cannedEventType,
  cannedProject,
  NOW,
  startCannedDashboard,
} from '../support/canned-api.ts';

const PROJECT = 'prj_browser1';
const ENDPOINT = 'ep_browser1';

const project = cannedProject({ id: PROJECT, name: 'Moon Quest' });
const endpoint = cannedEndpoint({ id: ENDPOINT, projectId: PROJECT, dev: true });
const attempt = (id: string, eventId: string, eventType: string, outcome: 'succeeded' | 'failed') =>
  cannedAttempt({
    id,
    projectId: PROJECT,
    eventId,
    endpointId: ENDPOINT,
    eventType,
    outcome,
    url: endpoint.url,
  });
const event = (id: string, type: string, isTest: boolean) =>
  cannedEvent({ id, projectId: PROJECT, type, test: isTest });
const BIDI = 'ep_bidi1';
/** A name and an event type holding RIGHT-TO-LEFT OVERRIDE, with no POP DIRECTIONAL FORMATTING after. */
const RLO_NAME = '\u202eReceiver';
const RLO_TYPE = '\u202eorder.shipped';
/** Right-to-left names: an event type (deprecated, in the catalog) and an API key. */
const HEB_TYPE = 'הזמנה.נשלחה';
const HEB_KEY = 'מפתח ראשי';
const bidiEndpoint = {
  ...endpoint,
  id: BIDI,
  name: RLO_NAME,
  eventTypes: [RLO_TYPE, HEB_TYPE, 'order.paid'],
};
const EVENTS = {
  evt_test1: event('evt_test1', 'user.created', true),
  evt_live1: event('evt_live1', 'order.paid', false),
  evt_bidi1: event('evt_bidi1', RLO_TYPE, true),
} as Record<string, ReturnType<typeof event>>;
const OFF = 'ep_off1';
const offEndpoint = {
  ...endpoint,
  id: OFF,
  name: 'Switched off',
  status: 'disabled',
  disabledReason: 'manual',
};
const LONG = 'ep_long1';
const longEndpoint = {
  ...endpoint,
  id: LONG,
  name: 'N'.repeat(300),
  description: 'D'.repeat(2000),
  url: `http://127.0.0.1:9/${'p'.repeat(1500)}`,
};
/** A catalog type with a name of the longest kind (200 characters) and a description, neither with spaces. */
const longType = cannedEventType({
  name: 'T'.repeat(200),
  description: 'W'.repeat(600),
  example: { order: 1 },
});
/** Deprecated, and first in the catalog (by name, as the API lists it). */
const legacyType = {
  ...longType,
  name: 'legacy.order',
  description: '',
  example: { legacy: true },
  deprecated: true,
};
const hebType = { ...legacyType, name: HEB_TYPE, example: { shipped: true } };
const apiKey = (id: string, name: string) => cannedApiKey({ id, projectId: PROJECT, name });
const API_KEYS = [apiKey('key_heb1', HEB_KEY), apiKey('key_rlo1', RLO_NAME)];
/** Answered 404, as a deleted endpoint is; VANISH is until `vanished` is set. */
const GONE = 'ep_gone1';
const VANISH = 'ep_vanish1';
let vanished = false;
const OLD_EXPIRES = new Date(Date.now() + 3_600_000).toISOString();
const SECRETS = {
  secret: 'whsec_currentcurrentcurrentcurrent',
  secrets: [
    { secret: 'whsec_currentcurrentcurrentcurrent', createdAt: NOW, expiresAt: null },
    { secret: 'whsec_previouspreviouspreviousprev', createdAt: NOW, expiresAt: OLD_EXPIRES },
  ],
};
const ATTEMPTS = [
  attempt('att_1', 'evt_test1', 'user.created', 'succeeded'),
  attempt('att_2', 'evt_live1', 'order.paid', 'failed'),
  attempt('att_3', 'evt_live1', 'order.paid', 'succeeded'),
];

/**
 * Asserts that `parts`, found in `text` in this order, are drawn from left to right when `text` is
 * a line of the page (left-to-right, as the dashboard is): what comes after a name is not drawn
 * before it, however the name's own characters are ordered.
 */
async function assertDrawnInOrder(page: Page, text: string, parts: string[]): Promise<void> {
  const spans = await page.evaluate(
    ({ text, parts }) => {
      const line = document.createElement('div');
      line.dir = 'ltr';
      line.style.whiteSpace = 'pre';
      line.style.position = 'absolute';
      line.textContent = text;
      document.body.append(line);
      const node = line.firstChild!;
      let from = 0;
      const found = parts.map((part) => {
        const start = text.indexOf(part, from);
        from = start + part.length;
        const range = document.createRange();
        range.setStart(node, start);
        range.setEnd(node, from);
        const rects = [...range.getClientRects()];
        return { left: Math.min(...rects.map((r) => r.left)), right: Math.max(...rects.map((r) => r.right)) };
      });
      line.remove();
      return found;
    },
    { text, parts },
  );
  for (let i = 1; i < spans.length; i++) {
    assert.ok(
      spans[i]!.left >= spans[i - 1]!.right - 0.5,
      `${JSON.stringify(parts[i])} is drawn at ${spans[i]!.left} px, before the end of ${JSON.stringify(parts[i - 1])} (${spans[i - 1]!.right} px), in ${JSON.stringify(text)}`,
    );
  }
}

describe('endpoint screens (browser)', { timeout: 120_000 }, () => {
  let dashboard: CannedDashboard;
  const problems: string[] = [];
  const eventLookups: string[] = [];
  const enabled: string[] = [];
  /** Every POST or PATCH of an endpoint the dashboard sent. */
  const saved: string[] = [];

  before(async () => {
    dashboard = await startCannedDashboard({
      problems,
      timeout: 15_000,
      setup: (server) => {
        // A portal token is refused, as the API refuses a revoked or expired one.
        server.addHook('onRequest', async (request, reply) => {
          if (request.url.startsWith('/api/') && /^Bearer hpt_/.test(request.headers.authorization ?? '')) {
            return reply
              .code(401)
              .send({ error: { code: 'HERALD_ERR_UNAUTHORIZED', message: 'the portal link is not valid' } });
          }
        });
        server.addHook('onRequest', async (request) => {
          if (/^(POST|PATCH)$/.test(request.method) && /\/endpoints(\/[^/]+)?$/.test(request.url))
            saved.push(`${request.method} ${request.url}`);
        });
        server.post(`/api/v1/projects/${PROJECT}/endpoints/:endpoint/enable`, async (request) => {
          const id = (request.params as { endpoint: string }).endpoint;
          enabled.push(id);
          if (id === OFF) offEndpoint.status = 'active';
          return { ok: true };
        });
      },
      get: (path, _url, reply) => {
        const p = `/projects/${PROJECT}`;
        const e = `${p}/endpoints/${ENDPOINT}`;
        if (path === p) return project;
        if (path === e) return endpoint;
        if (path === `${p}/endpoints/${OFF}`) return offEndpoint;
        if (path === `${p}/endpoints/${LONG}`) return longEndpoint;
        if (path === `${p}/endpoints/${BIDI}`) return bidiEndpoint;
        if (path === `${p}/endpoints/${BIDI}/attempts`) {
          return { data: [{ ...attempt('att_bidi', 'evt_bidi1', RLO_TYPE, 'succeeded'), endpointId: BIDI }] };
        }
        if (path === `${p}/endpoints/${GONE}` || (path === `${p}/endpoints/${VANISH}` && vanished)) {
          return reply
            .code(404)
            .send({ error: { code: 'HERALD_ERR_NOT_FOUND', message: 'endpoint not found' } });
        }
        if (path === `${p}/endpoints/${VANISH}`) return { ...endpoint, id: VANISH, name: 'Soon gone' };
        if (/^\/projects\/[^/]+\/endpoints\/[^/]+\/secret$/.test(path)) return SECRETS;
        if (path === `${p}/attempts/att_off`)
          return { ...attempt('att_off', 'evt_live1', 'order.paid', 'failed'), endpointId: OFF };
        if (path === `${p}/endpoints`)
          return { data: [endpoint, longEndpoint, bidiEndpoint], nextCursor: null };
        if (path === '/event-types') return { data: [legacyType, longType, hebType], nextCursor: null };
        if (path === `${p}/api-keys`) return { data: API_KEYS, nextCursor: null };
        if (path === `${e}/attempts`) return { data: ATTEMPTS, nextCursor: null };
        if (path === `${e}/stats`) {
          const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
          return { data: [{ start, succeeded: 2, failed: 1, avgDurationMs: 12, p95DurationMs: 12 }] };
        }
        const eventMatch = new RegExp(`^${p}/events/([^/]+)$`).exec(path);
        if (eventMatch) {
          eventLookups.push(eventMatch[1]!);
          const found = EVENTS[eventMatch[1]!];
          if (found) return found;
          return reply.code(404).send({ error: { code: 'HERALD_ERR_NOT_FOUND', message: 'no such event' } });
        }
        return undefined;
      },
    });
  });

  after(async () => {
    await dashboard?.close();
  });

  /**
   * One page for the whole block, signed in as the admin (1280×900), loading `path` anew at each
   * call: a fresh context for each view was a new Chromium renderer, ~0.9 s of CPU where loading a
   * view again in the same page costs a fraction of it. Nothing here adds to the page (no route,
   * handler, clock or other viewport), and only the admin token is kept in its sessionStorage.
   */
  let shared: Page | undefined;
  async function open(path: string): Promise<Page> {
    if (!shared) shared = await dashboard.open(path);
    else await shared.goto(`${dashboard.base}/ui${path}`);
    return shared;
  }
  /**
   * Done with the view: the page is put back as a fresh one is: its sessionStorage emptied (the
   * admin token comes back at the next load), left for about:blank (the view's timers and reads stop).
   */
  async function leave(page: Page): Promise<void> {
    await page.evaluate(() => sessionStorage.clear());
    await page.goto('about:blank');
  }

  test('Overview: the stats chart says it counts attempts, not deliveries', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/${ENDPOINT}`);
    const card = page.locator('section[aria-labelledby="stats-title"]');
    await card.locator('figure.chart').first().waitFor();
    assert.equal((await card.locator('#stats-title').textContent())?.trim(), 'Delivery attempts');
    const caption = (await card.locator('figure.chart figcaption').first().textContent()) ?? '';
    assert.match(caption, /^\s*Attempts\b/);
    assert.match(caption, /succeeded 2/);
    assert.doesNotMatch(await card.innerText(), /\bDeliveries\b/);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('History: the attempts of a test event carry a "test" badge; the others do not', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/${ENDPOINT}/history`);
    const rows = page.locator('table.history-table tbody tr');
    await rows.first().waitFor();
    const testRow = rows.filter({ hasText: 'user.created' });
    await testRow.locator('.badge', { hasText: /^test$/ }).waitFor();
    const liveRows = rows.filter({ hasText: 'order.paid' });
    assert.equal(await liveRows.count(), 2);
    // Both lookups answered (and rendered), then the live rows are still unmarked.
    for (let waited = 0; eventLookups.length < 2 && waited < 5000; waited += 50)
      await page.waitForTimeout(50);
    await page.waitForTimeout(300);
    assert.equal(await liveRows.locator('.badge', { hasText: /^test$/ }).count(), 0);
    // One lookup per distinct event, not per attempt.
    assert.deepEqual([...eventLookups].sort(), ['evt_live1', 'evt_test1']);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Secret: the older secret still valid after a rotation shows its expiry, its value only when revealed', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/${ENDPOINT}`);
    const card = page.locator('section[aria-labelledby="secret-title"]');
    const older = card.getByTestId('older-secrets').locator('li');
    await older.first().waitFor();
    assert.equal(await older.count(), 1);
    assert.match(await card.innerText(), /previous secret is still valid/);
    assert.equal(await older.locator('time').getAttribute('datetime'), OLD_EXPIRES);
    assert.match(await older.innerText(), /valid until .+\(in (59 min|60 min|1 h)\)/);
    assert.doesNotMatch(await card.innerText(), /whsec_/);
    await card.getByRole('button', { name: 'Reveal' }).click();
    await card.getByText(SECRETS.secrets[1]!.secret).waitFor();
    assert.equal(await card.getByTestId('secret-value').textContent(), SECRETS.secret);
    await card.getByRole('button', { name: 'Hide' }).click();
    await card.getByRole('button', { name: 'Reveal' }).waitFor();
    assert.doesNotMatch(await card.innerText(), /whsec_/);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Portal: a link the API refuses (revoked or expired) says it expired or was revoked', async () => {
    const claims = Buffer.from(
      JSON.stringify({ projectId: PROJECT, exp: Math.floor(Date.now() / 1000) + 3600 }),
    ).toString('base64url');
    const page = await open(`/portal#token=hpt_${claims}.AAAA`);
    const alert = page.getByRole('alert');
    await page.getByRole('heading', { name: 'This link is no longer valid' }).waitFor();
    const text = await alert.innerText();
    assert.match(text, /expired or been revoked/);
    assert.match(text, /new link/);
    await leave(page);
    // The browser logs the refused requests (401) as console errors: expected here.
    problems.splice(0, problems.length, ...problems.filter((p) => !/status of 401/.test(p)));
    assert.deepEqual(problems, []);
  });

  test('Attempt of a disabled endpoint: Resend is disabled, says why and offers to enable it', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/${OFF}/attempts/att_off`);
    const banner = page.locator('.banner-warn', { hasText: 'This endpoint is disabled' });
    await banner.waitFor();
    const resend = page.getByRole('button', { name: 'Resend' });
    assert.equal(await resend.isDisabled(), true);
    assert.equal(await resend.getAttribute('aria-describedby'), 'resend-disabled');
    await banner.getByRole('button', { name: 'Enable endpoint' }).click();
    await banner.waitFor({ state: 'detached' });
    assert.deepEqual(enabled, [OFF]);
    assert.equal(await resend.isEnabled(), true);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Long unbroken name and description wrap: no page wider than the window', async () => {
    for (const path of [`/projects/${PROJECT}/endpoints/${LONG}`, `/projects/${PROJECT}`, '/catalog']) {
      const page = await open(path);
      await page
        .getByText(path === '/catalog' ? longType.name : 'N'.repeat(300))
        .first()
        .waitFor();
      const [scrollWidth, clientWidth] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      assert.ok(
        scrollWidth <= clientWidth,
        `${path}: page is ${scrollWidth} px wide in a ${clientWidth} px window`,
      );
      if (path === `/projects/${PROJECT}`) {
        // Every column of the endpoints list stays within the window.
        const rights = await page
          .locator('table.endpoints-table thead th')
          .evaluateAll((cells) => cells.map((cell) => cell.getBoundingClientRect().right));
        assert.ok(rights.length >= 4);
        for (const right of rights) assert.ok(right <= clientWidth, `a column ends at ${right} px`);
      }
      await leave(page);
    }
    // In the endpoint form's event picker the long type wraps too, rather than scroll sideways.
    const page = await open(`/projects/${PROJECT}/endpoints/new`);
    const list = page.locator('.picker-list');
    await list.getByText(longType.name).waitFor();
    const [scrollWidth, clientWidth] = await list.evaluate((element) => [
      element.scrollWidth,
      element.clientWidth,
    ]);
    assert.ok(scrollWidth <= clientWidth, `the picker is ${scrollWidth} px wide in ${clientWidth} px`);
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Example: opens on the first event type not deprecated, the deprecated ones after it', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/${ENDPOINT}/example`);
    const select = page.getByLabel('Event type');
    await select.waitFor();
    assert.equal(await select.inputValue(), longType.name);
    assert.deepEqual(await select.locator('option').allTextContents(), [
      longType.name,
      'legacy.order (deprecated)',
      '\u2068הזמנה.נשלחה\u2069 (deprecated)',
    ]);
    await page.getByText(longType.description).waitFor();
    await select.selectOption('legacy.order');
    await page.getByText('"legacy": true').first().waitFor();
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Header editor: a header Herald sets itself is refused as typed, in the words of the API', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/new`);
    await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/new');
    await page.getByRole('button', { name: 'Add header' }).click();
    const headers = page.locator('fieldset', { hasText: 'Custom headers' });
    const error = headers.locator('.field-error');
    for (const name of ['Webhook-Signature', 'host']) {
      await page.getByLabel('Header 1 name').fill(name);
      await page.getByLabel('Header 1 value').fill('v1,x');
      // As the API's 400 shows by the field (`body.headers.<name>: …`, endpoint-input.ts).
      await error.waitFor();
      assert.equal(
        await error.textContent(),
        `${name}: is a header Herald sets itself (content, host, connection or signature headers)`,
      );
      assert.equal(await page.getByLabel('Header 1 name').getAttribute('aria-invalid'), 'true');
    }
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Header 1 name');
    assert.deepEqual(saved, [], 'nothing was sent');
    // A name of its own is taken.
    await page.getByLabel('Header 1 name').fill('X-Token');
    await error.waitFor({ state: 'detached' });
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Header editor: a Content-Type that does not fit the method and scheme is refused as typed, in the words of the API', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/new`);
    await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/new');
    await page.getByRole('button', { name: 'Add header' }).click();
    const headers = page.locator('fieldset', { hasText: 'Custom headers' });
    const error = headers.locator('.field-error');
    await page.getByLabel('Header 1 name').fill('Content-Type');
    await page.getByLabel('Header 1 value').fill('text/html');
    // As the API's 400 shows by the field (`body.headers.Content-Type: …`, endpoint-input.ts);
    // until 2026-12-06 the editor took it, and only Save brought the 400 back.
    await error.waitFor();
    assert.equal(
      await error.textContent(),
      'Content-Type: text/html does not describe the body: the body is JSON, so use application/json or application/<name>+json, with any parameters (a charset must be utf-8)',
    );
    assert.equal(await page.getByLabel('Header 1 value').getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Header 1 value');
    assert.deepEqual(saved, [], 'nothing was sent');
    // JSON's own type is taken for a POST; a GET has no body, so none is.
    await page.getByLabel('Header 1 value').fill('application/json; charset=utf-8');
    await error.waitFor({ state: 'detached' });
    await page.getByLabel('Method').selectOption('GET');
    await error.waitFor();
    assert.equal(
      await error.textContent(),
      'Content-Type: a GET carries no body, so it has no Content-Type: remove the header, or send with POST, PUT or PATCH',
    );
    assert.equal(await page.getByLabel('Header 1 name').getAttribute('aria-invalid'), 'true');
    await leave(page);
    assert.deepEqual(problems, []);
  });

  test('Bidi: an override in an event type or a name reorders nothing after it', async () => {
    // History: the "test" badge after the event type stays after it (without the isolate, the
    // override ran to the end of the cell and drew the badge on its left).
    const page = await open(`/projects/${PROJECT}/endpoints/${BIDI}/history`);
    const cell = page.locator('table.history-table tbody td', { hasText: 'order.shipped' });
    const badge = cell.locator('.badge', { hasText: /^test$/ });
    await badge.waitFor();
    const type = cell.locator('code');
    assert.equal(await type.textContent(), RLO_TYPE);
    const typeBox = (await type.boundingBox())!;
    const badgeBox = (await badge.boundingBox())!;
    assert.ok(
      badgeBox.x >= typeBox.x + typeBox.width,
      `the badge starts at ${badgeBox.x} px, the type ends at ${typeBox.x + typeBox.width} px`,
    );
    await leave(page);
    // The endpoints list: the name is in an isolate of its own.
    const list = await open(`/projects/${PROJECT}`);
    const name = list
      .locator('table.endpoints-table a', { hasText: 'Receiver' })
      .filter({ hasText: '\u202e' });
    await name.waitFor();
    const isolation = await name.evaluate((link) => {
      const text = [...link.querySelectorAll('*')].find(
        (element) => element.textContent === '\u202eReceiver',
      );
      return text ? getComputedStyle(text).unicodeBidi : 'none';
    });
    assert.equal(isolation, 'isolate');
    await leave(list);
    assert.deepEqual(problems, []);
  });

  test('Bidi: right-to-left names in options, titles and aria-labels are isolated and reorder nothing around them', async () => {
    const FSI = '\u2068';
    const PDI = '\u2069';
    // The Example tab: the types the endpoint names, the deprecated one after the others.
    const page = await open(`/projects/${PROJECT}/endpoints/${BIDI}/example`);
    const example = page.getByLabel('Event type');
    await example.waitFor();
    const exampleOptions = await example.locator('option').allTextContents();
    assert.deepEqual(exampleOptions, [RLO_TYPE, 'order.paid', `${FSI}${HEB_TYPE}${PDI} (deprecated)`]);
    await assertDrawnInOrder(page, exampleOptions[2]!, [HEB_TYPE, '(deprecated)']);
    // The Overview's test send: a type not in the catalog says so after its name.
    await page.getByRole('link', { name: 'Overview' }).click();
    const testSend = page.locator('section[aria-labelledby="test-title"]').getByLabel('Event type');
    await testSend
      .locator('option', { hasText: 'order.paid (not in the catalog)' })
      .waitFor({ state: 'attached' });
    const sendOptions = await testSend.locator('option').allTextContents();
    assert.deepEqual(sendOptions, [
      `${FSI}${RLO_TYPE}${PDI} (not in the catalog)`,
      HEB_TYPE,
      'order.paid (not in the catalog)',
    ]);
    await assertDrawnInOrder(page, sendOptions[0]!, [RLO_TYPE, '(not in the catalog)']);
    // The page's title: the name in it reorders neither the separators nor the project's name.
    const pageTitle = `Overview · ${FSI}${RLO_NAME}${PDI} · Moon Quest · Herald`;
    await page.waitForFunction((wanted) => document.title === wanted, pageTitle);
    await assertDrawnInOrder(page, await page.title(), ['Overview · ', RLO_NAME, ' · Moon Quest · Herald']);
    await leave(page);

    // The endpoints list: the types it names, in the title and the cell.
    const list = await open(`/projects/${PROJECT}`);
    const types = list
      .locator('table.endpoints-table tr', { hasText: 'order.shipped' })
      .locator('td.col-events span[title]');
    await types.waitFor();
    const title = (await types.getAttribute('title'))!;
    assert.equal(title, `${FSI}${RLO_TYPE}${PDI}, ${FSI}${HEB_TYPE}${PDI}, order.paid`);
    await assertDrawnInOrder(list, title, [RLO_TYPE, ', ', HEB_TYPE, ', order.paid']);
    assert.deepEqual(await types.locator('bdi').allTextContents(), [RLO_TYPE, HEB_TYPE]);
    await leave(list);

    // The catalog's Edit of the right-to-left type.
    const catalog = await open('/catalog');
    const edit = catalog.locator('li.card', { hasText: HEB_TYPE }).getByRole('button', { name: 'Edit' });
    await edit.waitFor();
    assert.equal(await edit.getAttribute('aria-label'), `Edit ${FSI}${HEB_TYPE}${PDI}`);
    await leave(catalog);

    // The keys' Revoke.
    const access = await open(`/projects/${PROJECT}/access`);
    const revokes = access.locator('table.api-keys-table').getByRole('button', { name: /^Revoke/ });
    await revokes.nth(1).waitFor();
    const labels = await revokes.evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
    assert.deepEqual(labels, [`Revoke ${FSI}${HEB_KEY}${PDI}…`, `Revoke ${FSI}${RLO_NAME}${PDI}…`]);
    await assertDrawnInOrder(access, labels[1]!, ['Revoke', RLO_NAME, '…']);
    await leave(access);

    // The header editor's Remove, for a name as typed.
    const form = await open(`/projects/${PROJECT}/endpoints/new`);
    await form.getByRole('button', { name: 'Add header' }).click();
    await form.getByLabel('Header 1 name').fill(`\u202e${HEB_KEY}`);
    const remove = form
      .locator('fieldset', { hasText: 'Custom headers' })
      .getByRole('button', { name: 'Remove' });
    assert.equal(await remove.getAttribute('aria-label'), `Remove header ${FSI}\u202e${HEB_KEY}${PDI}`);
    await leave(form);
    assert.deepEqual(problems, []);
  });

  test('A deleted endpoint says so with a way back to the list, also when deleted while shown', async () => {
    const page = await open(`/projects/${PROJECT}/endpoints/${GONE}/history`);
    const alert = page.getByRole('alert');
    await alert.getByText('This endpoint does not exist: it was deleted, or the link is wrong.').waitFor();
    await alert.getByRole('link', { name: 'Back to the endpoints' }).click();
    await page.locator('table.endpoints-table').waitFor();
    assert.equal(new URL(page.url()).pathname, `/ui/projects/${PROJECT}`);

    vanished = false;
    await page.goto(`${dashboard.base}/ui/projects/${PROJECT}/endpoints/${VANISH}`);
    await page.getByRole('heading', { name: 'Soon gone' }).waitFor();
    vanished = true;
    // The endpoint's state is read again every few seconds: the next read finds it gone.
    await page
      .getByRole('alert')
      .getByText(/^This endpoint was deleted meanwhile/)
      .waitFor();
    await page.getByRole('alert').getByRole('link', { name: 'Back to the endpoints' }).waitFor();
    await leave(page);
    // The browser logs the 404 answers as console errors: expected here.
    problems.splice(0, problems.length, ...problems.filter((p) => !/status of 404/.test(p)));
    assert.deepEqual(problems, []);
  });
});
