/**
 * An endpoint's "Send a test event" in a real browser against a real `herald serve`: the panel's
 * Event type offered the catalog's first type (or the filter's first) whatever it held, and sent
 * it, so where that type has no example in the catalog every test send with the panel as it opened
 * was refused (422 "… has no example in the event-type catalog"), though other types had one. It
 * now starts on a type that has an example, and says of the others that they have none. One of
 * those picked by hand was sent all the same, and its refusal shown as the API wrote it
 * (`body.eventType: "…" has no example …`) in a banner: Send is now unavailable for it, saying
 * why, and a refusal of the type (its example removed since the catalog was read) shows by the field.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorOf } from '../support/browser.ts';
import { newProject, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess, type Receiver, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-test-send-0123456789';

describe('dashboard test send (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let receiver: Receiver;
  let p: string;

  before(async () => {
    herald = dash.herald;
    receiver = await startReceiver();
    // First by name, and without an example (a type registered for its schema alone).
    const bare = await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/account.closed', {
      description: 'No example yet.',
    });
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    const shown = await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/order.paid', {
      description: 'An order was paid.',
      example: { order: 'o_1', amount: 990 },
    });
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    p = await newProject(herald, ADMIN, 'Test Sends');
  });

  after(async () => {
    await receiver?.close();
  });

  /** An endpoint of the block's project to the receiver, with `eventTypes`; its id. */
  async function endpoint(name: string, eventTypes: string[]): Promise<string> {
    const made = await api<{ id: string }>(herald.url, ADMIN, 'POST', `${p}/endpoints`, {
      url: `${receiver.url}/${name}`,
      name,
      eventTypes,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body.id;
  }

  for (const [label, eventTypes] of [
    ['takes every type', []],
    ['has a filter', ['account.closed', 'order.paid']],
  ] as const) {
    test(`an endpoint that ${label}: Send test event as the panel opens sends a type with an example`, async () => {
      const name = label.replace(/\W+/g, '-');
      const id = await endpoint(name, [...eventTypes]);
      const page = await dash.page({ signedIn: true });
      await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${id}`);
      const panel = page.locator('section', {
        has: page.getByRole('heading', { name: 'Send a test event' }),
      });
      const type = panel.getByLabel('Event type');
      await type.waitFor();
      // Pressed as the panel opens: the answer is either the queued event or the API's refusal.
      await panel.getByRole('button', { name: 'Send test event' }).click();
      const answer = panel.getByText(/^Test event evt_\S+ queued\.|has no example/);
      await answer.waitFor();
      assert.match((await answer.textContent()) ?? '', /^Test event evt_\S+ queued\./);
      await type.locator('option', { hasText: 'no example' }).waitFor({ state: 'attached' });
      assert.equal(await type.inputValue(), 'order.paid', 'the panel started on a type it can send');
      assert.deepEqual(await type.locator('option').allInnerTexts(), [
        'account.closed (no example in the catalog)',
        'order.paid',
      ]);
      let got = receiver.requests.find((r) => r.url === `/${name}`);
      for (let waited = 0; !got; waited += 50) {
        assert.ok(waited < 10_000, 'the receiver never got the test event');
        await new Promise((resolve) => setTimeout(resolve, 50));
        got = receiver.requests.find((r) => r.url === `/${name}`);
      }
      assert.equal(JSON.parse(got.body).type, 'order.paid');
      assert.deepEqual(problems, []);
    });
  }

  test('a type without an example cannot be sent, and a refusal of the type is said by its field', async () => {
    const id = await endpoint('picked-bare', ['account.closed', 'order.paid']);
    const page = await dash.page({ signedIn: true });
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${id}`);
    const panel = page.locator('section', { has: page.getByRole('heading', { name: 'Send a test event' }) });
    const type = panel.getByLabel('Event type');
    await type.locator('option', { hasText: 'no example' }).waitFor({ state: 'attached' });
    const send = panel.getByRole('button', { name: 'Send test event' });
    // Picked by hand: the button sent it, and the panel showed the API's refusal as it came,
    // `body.eventType: "account.closed" has no example in the event-type catalog`.
    await type.selectOption('account.closed');
    assert.equal(await send.isDisabled(), true, 'Send test event is offered for a type it cannot send');
    assert.equal(
      await page.locator(`#${await send.getAttribute('aria-describedby')}`).textContent(),
      "A test send is its type's example in the event catalog: this type has none there. Pick another type.",
    );

    // The example removed after the panel read the catalog: the API's refusal goes by the field,
    // without the API's name for it.
    await type.selectOption('order.paid');
    const bare = await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/order.paid', { example: null });
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    dash.expectConsole = /status of 422/;
    try {
      await send.click();
      await page.waitForFunction(
        (select) => select?.getAttribute('aria-invalid') === 'true',
        await type.elementHandle(),
      );
      assert.equal(await errorOf(type), '"order.paid" has no example in the event-type catalog');
      assert.equal(await panel.locator('.banner-error').count(), 0, 'not said again in a banner');
    } finally {
      const back = await api(herald.url, ADMIN, 'PUT', '/api/v1/event-types/order.paid', {
        description: 'An order was paid.',
        example: { order: 'o_1', amount: 990 },
      });
      assert.equal(back.status, 200, JSON.stringify(back.body));
    }
    assert.deepEqual(
      problems.filter((problem) => !/^422 from POST .*\/test$/.test(problem)),
      [],
    );
  });
});
