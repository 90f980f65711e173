/**
 * The endpoint overview's "Waiting deliveries" card in a real browser (headless Chromium via
 * playwright-core) against a real `herald serve`: deliveries to a loopback receiver that answers
 * 500 wait an hour for their retry (pending), one to a receiver that never answers is being sent
 * (in flight), and disabling the endpoint parks them. The card counts both, lists either in the
 * order the API gives, reads more on request, and says when nothing waits. What Recover, Replay and
 * a test send queue shows in it at once (a reviewer found it kept saying "Nothing waiting" until
 * Refresh).
 * Any console error, page error or answer from 400 up fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DeliveryState, HeraldClient, paginate } from '@herald/client';
import type { Locator, Page } from 'playwright-core';
import { WAITING_PAGE } from '../../src/dashboard/app/api/client.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { eventually, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const ADMIN = 'e2e-admin-token-waiting-deliveries-0123';
/** Deliveries of the first test: two pages of the card and a few more. */
const TOTAL = 2 * WAITING_PAGE + 3;

describe('dashboard: an endpoint’s waiting deliveries (browser)', { timeout: 180_000 }, () => {
  // The TOTAL failures in a row below must not disable the endpoint before the test does.
  const dash = useDashboardBrowser({
    adminToken: ADMIN,
    env: { HERALD_FAILURE_THRESHOLD: '1000' },
    problemStatus: 400,
  });
  const { problems } = dash;
  let client: HeraldClient;
  let receiver: ScriptedReceiver;

  before(async () => {
    client = new HeraldClient({ url: dash.herald.url, token: ADMIN });
    // /slow never answers (its attempt stays in flight till the endpoint's timeout); the rest 500.
    receiver = await startScriptedReceiver((hit) => (hit.url === '/slow' ? { hang: true } : { status: 500 }));
  });
  after(async () => {
    await receiver?.close();
    await client?.close();
  });

  /** Every delivery waiting for the endpoint in `status`, as the API lists them. */
  async function waiting(project: string, endpoint: string, status: 'pending' | 'parked') {
    const all: DeliveryState[] = [];
    for await (const d of paginate(
      (q) => client.listEndpointDeliveries(project, endpoint, { ...q, status }),
      1000,
    ))
      all.push(d);
    return all;
  }

  const card = (page: Page) =>
    page.locator('section.card', { has: page.getByRole('heading', { name: 'Waiting deliveries' }) });

  /** The card's counts as shown: `{Pending: '43', Parked: '0'}`. */
  async function countsOf(section: Locator): Promise<Record<string, string>> {
    const shown: Record<string, string> = {};
    for (const pair of await section.locator('.kpis > div').all())
      shown[await pair.locator('dt').innerText()] = await pair.locator('dd').innerText();
    return shown;
  }

  const overview = async (project: string, endpoint: string) => {
    const page = await dash.page({ signedIn: true });
    await page.goto(`${dash.herald.url}/ui/projects/${project}/endpoints/${endpoint}`);
    return page;
  };

  test('counts and lists the pending deliveries in the order they are due, reads more, and shows the parked ones once disabled', async () => {
    const project = await client.createProject({ name: 'Moon Quest' });
    const endpoint = await client.createEndpoint(project.id, {
      url: `${receiver.url}/flaky`,
      name: 'Flaky',
      // One retry, an hour after the first failure: each delivery then waits, pending.
      retrySchedule: [3600],
    });
    const events = await client.sendEvents(
      project.id,
      Array.from({ length: TOTAL }, (_, order) => ({ type: 'order.paid', payload: { order } })),
    );
    const due = await eventually(
      async () => {
        const all = await waiting(project.id, endpoint.id, 'pending');
        return all.length === TOTAL && all.every((d) => d.attempts === 1 && !d.inFlight) && all;
      },
      30_000,
      'every delivery attempted once and due again',
    );

    const page = await overview(project.id, endpoint.id);
    const section = card(page);
    const rows = section.locator('tbody tr');
    await rows.nth(WAITING_PAGE - 1).waitFor();
    assert.deepEqual(await countsOf(section), { Pending: String(TOTAL), Parked: '0' });
    assert.equal(
      await section.getByRole('button', { name: 'Pending', exact: true }).getAttribute('aria-pressed'),
      'true',
    );
    assert.equal(await rows.count(), WAITING_PAGE, 'a first page');
    const shownIds = async () =>
      (await section.locator('tbody tr td:first-child code').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(
      await shownIds(),
      due.slice(0, WAITING_PAGE).map((d) => d.id),
    );
    assert.deepEqual(await section.locator('thead th').allInnerTexts(), [
      'Delivery',
      'Attempts',
      'Next attempt',
      'Last attempt',
      'Created',
    ]);
    const cells = await rows.first().locator('td').allInnerTexts();
    assert.equal(cells[1], '1', 'attempts so far');
    // An hour ± the retry jitter (20 % by default) from the first failure.
    assert.match(cells[2]!, /^in (\d+ min|1 h)$/);
    assert.match(cells[3]!, /^(just now|\d+ s ago)$/);

    // Show more reads the next page after the last one shown, twice, to the end of the list.
    await section
      .getByText(`Showing the first ${WAITING_PAGE} pending deliveries; there are more.`)
      .waitFor();
    await section.getByRole('button', { name: 'Show more pending deliveries' }).click();
    await rows.nth(2 * WAITING_PAGE - 1).waitFor();
    await section
      .getByText(`Showing the first ${2 * WAITING_PAGE} pending deliveries; there are more.`)
      .waitFor();
    await section.getByRole('button', { name: 'Show more pending deliveries' }).click();
    await rows.nth(TOTAL - 1).waitFor();
    assert.deepEqual(
      await shownIds(),
      due.map((d) => d.id),
    );
    assert.equal(await section.getByTestId('list-stopped').count(), 0, 'the whole list is shown');

    // A delivery's id leads to its event's page.
    const eventOf = new Map(events.map((e) => [e.deliveries[0]!.id, e.id]));
    await rows.first().getByRole('link').click();
    await page.waitForURL(`**/events/${eventOf.get(due[0]!.id)}`);
    await page.goBack();
    await section.locator('button[aria-pressed="true"]', { hasText: 'Pending' }).waitFor();
    await rows.nth(WAITING_PAGE - 1).waitFor();

    // Disabled, its pending deliveries are parked: the card shows those, and the pending list is empty.
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    const parked = await waiting(project.id, endpoint.id, 'parked');
    assert.equal(parked.length, TOTAL);
    // No reload: the page reads the endpoint's state every STATE_REFRESH_MS, and the card follows it.
    await section.locator('button[aria-pressed="true"]', { hasText: 'Parked' }).waitFor();
    await section.locator('thead th', { hasText: 'Next attempt' }).waitFor({ state: 'detached' });
    await rows.nth(WAITING_PAGE - 1).waitFor();
    assert.deepEqual(await countsOf(section), { Pending: '0', Parked: String(TOTAL) });
    assert.equal(
      await section.getByRole('button', { name: 'Parked', exact: true }).getAttribute('aria-pressed'),
      'true',
    );
    assert.deepEqual(
      await section.locator('thead th').allInnerTexts(),
      ['Delivery', 'Attempts', 'Last attempt', 'Created'],
      'nothing is due while parked: no next attempt',
    );
    assert.deepEqual(
      await shownIds(),
      parked.slice(0, WAITING_PAGE).map((d) => d.id),
    );
    await section.getByRole('button', { name: 'Pending', exact: true }).click();
    await section.getByText('Nothing waiting: every delivery to this endpoint has been attempted').waitFor();
    await section.getByText(`${TOTAL} parked while the endpoint is disabled: see Parked.`).waitFor();
    assert.equal(await rows.count(), 0);
    assert.deepEqual(problems, []);
  });

  test('marks a delivery being sent, and says when nothing waits', async () => {
    const project = await client.createProject({ name: 'Slow Quest' });
    const slow = await client.createEndpoint(project.id, {
      url: `${receiver.url}/slow`,
      name: 'Slow',
      retrySchedule: [3600],
      timeoutMs: 30_000,
    });
    const [sent] = await client.sendEvents(project.id, [{ type: 'order.paid', payload: {} }]);
    await eventually(
      async () => (await waiting(project.id, slow.id, 'pending'))[0]?.inFlight,
      15_000,
      'the delivery in flight',
    );
    const page = await overview(project.id, slow.id);
    const section = card(page);
    const row = section.locator('tbody tr');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('code').innerText(), sent!.deliveries[0]!.id);
    assert.equal(await row.locator('td').nth(2).innerText(), 'sending');
    assert.equal(await row.locator('td').nth(3).innerText(), 'never');
    assert.deepEqual(await countsOf(section), { Pending: '1', Parked: '0' });

    // An endpoint nothing was sent to.
    const quiet = await client.createEndpoint(project.id, {
      url: `${receiver.url}/quiet`,
      name: 'Quiet',
      eventTypes: ['never.sent'],
    });
    const empty = card(await overview(project.id, quiet.id));
    await empty.getByText('Nothing waiting: every delivery to this endpoint has been attempted').waitFor();
    assert.deepEqual(await countsOf(empty), { Pending: '0', Parked: '0' });
    await empty.getByRole('button', { name: 'Parked', exact: true }).click();
    await empty.getByText('Nothing parked').waitFor();
    assert.deepEqual(problems, []);
  });

  test('Recover, Replay and a test send show what they queued in the card, without Refresh', async () => {
    const project = await client.createProject({ name: 'Lever Quest' });
    // What the test send sends (the catalog's example), to an endpoint that answers 500.
    await client.putEventType('lever.pulled', { example: { lever: 1 } });
    const tested = await client.createEndpoint(project.id, {
      url: `${receiver.url}/flaky`,
      name: 'Tested',
      eventTypes: ['lever.pulled'],
      retrySchedule: [3600],
    });
    // Tried once and failed for good; then given retries an hour apart, so what Recover queues waits.
    const failing = await client.createEndpoint(project.id, {
      url: `${receiver.url}/flaky`,
      name: 'Failing',
      retrySchedule: [],
    });
    // Gets nothing of what is sent; then its filter is widened, so Replay has an event to send.
    const late = await client.createEndpoint(project.id, {
      url: `${receiver.url}/flaky`,
      name: 'Late',
      eventTypes: ['never.sent'],
      retrySchedule: [3600],
    });
    const [sent] = await client.sendEvents(project.id, [{ type: 'order.paid', payload: {} }]);
    await eventually(
      async () => (await client.getEvent(project.id, sent!.id)).deliveries[0]?.status === 'failed',
      15_000,
      'the delivery failed',
    );
    // Two delays: the recovered delivery's next attempt (its second, which the dispatcher may make
    // before the card reads) must leave it waiting, not end it (with one, CI saw it failed for good).
    await client.updateEndpoint(project.id, failing.id, { retrySchedule: [3600, 3600] });
    await client.updateEndpoint(project.id, late.id, { eventTypes: [] });

    for (const [endpoint, lever, done] of [
      [failing, 'Recover', '1 failed delivery queued again.'],
      [late, 'Replay', '1 missed event queued for this endpoint.'],
      [tested, 'Send test event', 'See it in History'],
    ] as const) {
      const page = await overview(project.id, endpoint.id);
      const section = card(page);
      await section.getByText('Nothing waiting').waitFor();
      await page.getByRole('button', { name: lever, exact: true }).click();
      await page.getByText(done).waitFor();
      await section.locator('tbody tr').first().waitFor();
      assert.equal((await countsOf(section)).Pending, '1', `${lever}: the card counts what it queued`);
    }
    assert.deepEqual(problems, []);
  });

  test('the endpoints list says what waits for each endpoint', async () => {
    const project = await client.createProject({ name: 'List Quest' });
    const flaky = await client.createEndpoint(project.id, {
      url: `${receiver.url}/flaky`,
      name: 'Flaky',
      retrySchedule: [3600],
    });
    const held = await client.createEndpoint(project.id, {
      url: `${receiver.url}/flaky`,
      name: 'Held',
      retrySchedule: [3600],
    });
    await client.createEndpoint(project.id, {
      url: `${receiver.url}/quiet`,
      name: 'Quiet',
      eventTypes: ['x'],
    });
    await client.sendEvents(
      project.id,
      Array.from({ length: 3 }, (_, order) => ({ type: 'order.paid', payload: { order } })),
    );
    // Each tried once and due again in an hour; then Held is disabled, which parks its three.
    for (const endpoint of [flaky, held]) {
      await eventually(
        async () => {
          const all = await waiting(project.id, endpoint.id, 'pending');
          return all.length === 3 && all.every((d) => d.attempts === 1 && !d.inFlight);
        },
        15_000,
        `three pending for ${endpoint.name}, each tried once`,
      );
    }
    await client.updateEndpoint(project.id, held.id, { active: false });
    assert.equal((await waiting(project.id, held.id, 'parked')).length, 3);

    const page = await dash.page({ signedIn: true });
    await page.goto(`${dash.herald.url}/ui/projects/${project.id}`);
    const table = page.locator('table.endpoints-table');
    const waitingOf = (name: string) => table.locator('tr', { hasText: name }).locator('td').last();
    assert.equal(await table.locator('thead th').last().innerText(), 'Waiting');
    await waitingOf('Flaky').getByText('3 pending').waitFor();
    await waitingOf('Held').getByText('3 parked').waitFor();
    await waitingOf('Quiet').getByText('none').waitFor();
    assert.deepEqual(problems, []);
  });
});
