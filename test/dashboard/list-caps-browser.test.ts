/**
 * Long lists in the dashboard (headless Chromium, the dashboard as built now, a canned API on
 * loopback), after a tester found that:
 * - the endpoints list read at most 2,000 endpoints and showed no hint that more existed;
 * - the event-type catalog stopped at 5,000 types, silently;
 * - the events screen and the event detail read the project's whole endpoint list (up to 20
 *   requests) on every visit, only to name the endpoints of the deliveries shown;
 * - (found on the way) the event detail showed one page of its attempts (50), silently;
 * - the event detail read the whole event, every delivery of it (up to 100,000), and again every
 *   2 s while one was in flight; then still once, when it opened.
 * Now the lists say they stopped and read the next ones on request, the events screens read
 * only the endpoints they name, once per session each, and the event detail reads the event without
 * its deliveries (`?deliveries=false`) and them a page at a time, and again only those it shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { IN_FLIGHT_REFRESH_MS } from '../../src/dashboard/app/retry-block.ts';
import {
  type CannedDashboard,
  cannedAttempt,
  cannedDelivery,
  cannedEndpoint,
  cannedEvent,
  cannedEventType,
  cannedProject,
  pageOf,
  startCannedDashboard,
} from '../support/canned-api.ts';
import { until } from '../support/wait-until.ts';

const PROJECT = 'prj_caps1';
const ENDPOINTS = 2150;
const TYPES = 5100;

const endpoint = (i: number) =>
  cannedEndpoint({
    id: `ep_${String(i).padStart(5, '0')}`,
    projectId: PROJECT,
    url: `http://127.0.0.1:9/hook/${i}`,
    name: `Receiver ${i}`,
  });
const eventType = (i: number) => cannedEventType({ name: `type.${String(i).padStart(5, '0')}` });
/** Two endpoints the events name: one among the first 2,000 listed, one past them. */
const NAMED = [endpoint(3), endpoint(2100)];
const event = (id: string) =>
  cannedEvent({
    id,
    projectId: PROJECT,
    type: 'type.00001',
    deliveries: NAMED.map((ep) => cannedDelivery(id, ep)),
  });
const EVENTS = [event('evt_caps1'), event('evt_caps2')];
/** An event fanned out to 230 endpoints: more than two pages of the event page's 100. */
const WIDE = {
  ...event('evt_wide'),
  deliveries: Array.from({ length: 230 }, (_, i) => cannedDelivery('evt_wide', endpoint(i))),
};
/** The wide event's delivery held in flight while `wideInFlight.on`: past the first 100 shown. */
const HELD = WIDE.deliveries[150]!;
/** evt_caps1's attempts, newest first: more than a page of 100. */
const ATTEMPTS = Array.from({ length: 130 }, (_, i) =>
  cannedAttempt({
    id: `att_${String(130 - i).padStart(4, '0')}`,
    projectId: PROJECT,
    deliveryId: `dlv_evt_caps1_${NAMED[0]!.id}`,
    eventId: 'evt_caps1',
    endpointId: NAMED[0]!.id,
    eventType: 'type.00001',
    number: 130 - i,
    outcome: 'failed',
    url: NAMED[0]!.url,
  }),
);

describe('long lists in the dashboard (browser)', { timeout: 180_000 }, () => {
  let dashboard: CannedDashboard;
  const problems: string[] = [];
  const allEndpoints = Array.from({ length: ENDPOINTS }, (_, i) => endpoint(i));
  const allTypes = Array.from({ length: TYPES }, (_, i) => eventType(i));
  /** Requests for the endpoint list, and for one endpoint by id. */
  const listReads: string[] = [];
  const idReads: string[] = [];
  /** Reads of the wide event (GET event), and of its deliveries (their query strings). */
  const wideReads: string[] = [];
  const wideDeliveryReads: string[] = [];
  const wideInFlight = { on: false };

  before(async () => {
    dashboard = await startCannedDashboard({
      problems,
      timeout: 30_000,
      get: (path, url, reply) => {
        const query = Object.fromEntries(url.searchParams);
        const p = `/projects/${PROJECT}`;
        if (path === p) return cannedProject({ id: PROJECT, name: 'Caps' });
        if (path === `${p}/endpoints`) {
          listReads.push(url.search);
          return pageOf(allEndpoints, query);
        }
        const one = new RegExp(`^${p}/endpoints/([^/]+)$`).exec(path);
        if (one) {
          idReads.push(one[1]!);
          const found = allEndpoints.find((e) => e.id === one[1]);
          if (found) return found;
          return reply
            .code(404)
            .send({ error: { code: 'HERALD_ERR_NOT_FOUND', message: 'no such endpoint' } });
        }
        if (path === '/event-types') return pageOf(allTypes, query);
        if (path === `${p}/events`) return { data: EVENTS, nextCursor: null };
        if (path === `${p}/events/evt_caps1/attempts`) return pageOf(ATTEMPTS, query);
        if (path === `${p}/events/evt_wide`) {
          wideReads.push(url.search);
          if (url.searchParams.get('deliveries') !== 'false') return WIDE;
          const { deliveries: _, ...alone } = WIDE;
          return alone;
        }
        if (path === `${p}/events/evt_wide/deliveries`) {
          wideDeliveryReads.push(url.search);
          const held = {
            ...HELD,
            inFlight: wideInFlight.on,
            status: wideInFlight.on ? 'pending' : 'succeeded',
          };
          return pageOf(
            WIDE.deliveries.map((d) => (d.id === HELD.id ? held : d)),
            query,
          );
        }
        const ofEvent = new RegExp(`^${p}/events/([^/]+)/deliveries$`).exec(path);
        if (ofEvent) return pageOf(EVENTS.find((e) => e.id === ofEvent[1])?.deliveries ?? [], query);
        const anEvent = new RegExp(`^${p}/events/([^/]+)$`).exec(path);
        if (anEvent) return EVENTS.find((e) => e.id === anEvent[1]) ?? reply.code(404).send({});
        return undefined;
      },
    });
  });

  after(async () => {
    await dashboard?.close();
  });

  /** `clock`: with Playwright's clock installed (it runs on as the real one until moved forward). */
  function open(path: string, { clock = false } = {}): Promise<Page> {
    return dashboard.open(path, { clock });
  }

  test('the endpoints list says it shows the first 2,000 and reads the rest on request', async (t) => {
    const page = await open(`/projects/${PROJECT}`);
    let figureReads = 0;
    page.on('request', (request) => {
      if (/\/endpoints\/[^/]+\/(stats|deliveries)$/.test(new URL(request.url()).pathname)) figureReads++;
    });
    const rows = page.locator('table.endpoints-table tbody tr');
    const stopped = page.getByTestId('list-stopped');
    await stopped.waitFor();
    assert.equal(await rows.count(), 2000);
    assert.match(await stopped.innerText(), /Showing the first 2,000 endpoints; there are more\./);
    // This API answers no counts: the Waiting of a row in view says it could not be read.
    await rows.first().getByText('could not be read').waitFor({ state: 'attached' });
    const clicked = Date.now();
    await stopped.getByRole('button', { name: 'Show more endpoints' }).click();
    await stopped.waitFor({ state: 'detached' });
    t.diagnostic(
      `"Show more" answered in ${Date.now() - clicked} ms; ${figureReads} figure reads sent by then`,
    );
    assert.equal(await rows.count(), ENDPOINTS);
    await page.getByText('Receiver 2149', { exact: true }).waitFor();
    await page.context().close();
    assert.deepEqual(problems, []);
  });

  test('the catalog says it shows the first 5,000 event types and reads the rest on request', async () => {
    const page = await open('/catalog');
    const items = page.locator('ul.catalog > li');
    const stopped = page.getByTestId('list-stopped');
    await stopped.waitFor();
    assert.equal(await items.count(), 5000);
    assert.match(await stopped.innerText(), /Showing the first 5,000 event types; there are more\./);
    await stopped.getByRole('button', { name: 'Show more event types' }).click();
    await stopped.waitFor({ state: 'detached' });
    assert.equal(await items.count(), TYPES);
    await page.context().close();
    assert.deepEqual(problems, []);
  });

  test("the events screens read only the endpoints they name, once per session, not the whole list; an event's attempts say when there are more", async () => {
    listReads.length = 0;
    idReads.length = 0;
    const page = await open(`/projects/${PROJECT}/events`);
    const firstRow = page.locator('tbody tr').filter({ hasText: 'evt_caps1' });
    // Both named, the one past the first 2,000 too.
    await firstRow.getByText('Receiver 3: succeeded').waitFor();
    await firstRow.getByText('Receiver 2100: succeeded').waitFor();
    // To the event's detail and back, in the same session.
    await firstRow.getByRole('link', { name: 'evt_caps1' }).click();
    const deliveries = page.locator('table').filter({ hasText: 'Retry now' });
    await deliveries.getByRole('link', { name: 'Receiver 2100' }).waitFor();
    await deliveries.getByRole('link', { name: 'Receiver 3' }).waitFor();
    // Its 130 attempts: the newest 100, saying there are more, then the rest on request.
    const attempts = page.locator('ul.attempt-list > li');
    const stopped = page.getByTestId('list-stopped');
    await stopped.waitFor();
    assert.equal(await attempts.count(), 100);
    assert.match(await stopped.innerText(), /Showing the newest 100 attempts; there are more\./);
    await stopped.getByRole('button', { name: 'Show more attempts' }).click();
    await stopped.waitFor({ state: 'detached' });
    assert.equal(await attempts.count(), 130);
    await page.getByText('Attempt #1 to Receiver 3', { exact: true }).waitFor();
    await page.getByRole('link', { name: '← All events' }).click();
    await page
      .locator('tbody tr')
      .filter({ hasText: 'evt_caps2' })
      .getByText('Receiver 2100: succeeded')
      .waitFor();
    await page.waitForTimeout(300);
    assert.deepEqual(listReads, [], 'no screen read the endpoint list');
    assert.deepEqual([...idReads].sort(), NAMED.map((e) => e.id).sort(), 'each named endpoint read once');
    await page.context().close();
    assert.deepEqual(problems, []);
  });

  test("an event's page shows its first 100 deliveries, reads more on request, and while one is in flight reads again only those it shows", async () => {
    const page = await open(`/projects/${PROJECT}/events/evt_wide`, { clock: true });
    const rows = page.locator('table').filter({ hasText: 'Retry now' }).locator('tbody tr');
    const stopped = page.getByTestId('list-stopped');
    await stopped.waitFor();
    assert.equal(await rows.count(), 100);
    assert.match(await stopped.innerText(), /Showing the first 100 deliveries; there are more\./);
    await rows.filter({ hasText: 'Receiver 99' }).waitFor();
    await stopped.getByRole('button', { name: 'Show more deliveries' }).click();
    await rows.nth(199).waitFor();
    assert.equal(await rows.count(), 200);
    assert.match(await stopped.innerText(), /Showing the first 200 deliveries; there are more\./);

    // The 151st is sent meanwhile: Refresh shows it in flight, and the page reads the 200 it shows
    // again (one read of 200 from the start) until its attempt is recorded.
    wideInFlight.on = true;
    const heldRow = rows.filter({ hasText: 'Receiver 150' });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await heldRow.getByText('Being sent now').waitFor();
    assert.equal(await rows.count(), 200, 'what it showed, no more and no less');
    // Two of its reads while in flight, each brought forward on the page's clock rather than waited
    // for (IN_FLIGHT_REFRESH_MS each).
    const before = wideDeliveryReads.length;
    for (let read = 1; read <= 2; read++) {
      await page.clock.fastForward(IN_FLIGHT_REFRESH_MS);
      await until(`read ${read} while in flight`, () => wideDeliveryReads.length >= before + read);
    }
    const again = wideDeliveryReads.slice(before);
    assert.ok(again.length >= 2, `read again while in flight: ${again.join(', ')}`);
    assert.ok(
      again.every((search) => search === '?limit=200'),
      `only the 200 shown: ${again.join(', ')}`,
    );
    wideInFlight.on = false;
    await page.clock.fastForward(IN_FLIGHT_REFRESH_MS);
    await heldRow.getByText('Being sent now').waitFor({ state: 'detached' });
    await heldRow.getByText('succeeded').waitFor();
    assert.equal(await rows.count(), 200);

    await stopped.getByRole('button', { name: 'Show more deliveries' }).click();
    await stopped.waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 230);
    await rows.filter({ hasText: 'Receiver 229' }).waitFor();
    assert.deepEqual(
      wideReads,
      ['?deliveries=false'],
      'the event itself is read once, when the page opens, without its deliveries',
    );
    assert.deepEqual(wideDeliveryReads.slice(0, 2), ['?limit=100', '?limit=100&cursor=100']);
    assert.equal(wideDeliveryReads.at(-1), '?limit=100&cursor=200');
    await page.context().close();
    assert.deepEqual(problems, []);
  });
});
