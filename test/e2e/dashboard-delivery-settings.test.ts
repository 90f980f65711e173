/**
 * The dashboard says what this installation and this endpoint really do (seed-parity report), in a
 * real browser (headless Chromium via playwright-core) against a real `herald serve` started with
 * HERALD_DELIVERY_MAX_TIMEOUT_MS=60000, HERALD_DELIVERY_TIMEOUT_MS=2000 and HERALD_RETRY_SCHEDULE=10,20:
 * - the endpoint form takes a 45 s timeout (the API does; the form said "from 100 to 30000"), refuses
 *   one above 60 s, and its hints give the installation's default timeout and schedule, or the
 *   project's own schedule when it has one (they said 5000 ms and 5 s, 5 min, … whatever the settings);
 * - after a rotation, a one-signature scheme (github) does not claim that requests carry a signature
 *   for each valid secret; its rotation explains the safe order and rotates to a secret typed in,
 *   while a multi-signature scheme (standard) still says both sign;
 * - an hmac-sha1-url endpoint with a static key says its secret is not used and offers no rotation.
 * Any console error or page error fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { errorOf } from '../support/browser.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-delivery-settings-0123';
const HOOK = 'http://127.0.0.1:9/hook';

interface Secrets {
  secret: string;
  secrets: { secret: string; expiresAt: string | null }[];
}

describe('dashboard: delivery settings and secret rotation as they are (browser)', {
  timeout: 180_000,
}, () => {
  const dash = useDashboardBrowser({
    adminToken: ADMIN,
    env: {
      HERALD_DELIVERY_MAX_TIMEOUT_MS: '60000',
      HERALD_DELIVERY_TIMEOUT_MS: '2000',
      HERALD_RETRY_SCHEDULE: '10,20',
    },
  });
  const { problems } = dash;
  let herald: HeraldProcess;
  let plain: { id: string };
  let scheduled: { id: string };

  const call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    api<T>(herald.url, ADMIN, method, path, body);

  async function createEndpoint(project: string, body: Record<string, unknown>): Promise<string> {
    const created = await call<{ id: string }>('POST', `/api/v1/projects/${project}/endpoints`, body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  before(async () => {
    herald = dash.herald;
    plain = (await call<{ id: string }>('POST', '/api/v1/projects', { name: 'Plain' })).body;
    scheduled = (
      await call<{ id: string }>('POST', '/api/v1/projects', { name: 'Quick retries', retrySchedule: [1, 1] })
    ).body;
  });

  async function operatorPage(path: string): Promise<Page> {
    const page = await dash.page({ signedIn: true });
    await page.goto(`${herald.url}/ui${path}`);
    return page;
  }

  /** The hint under a labelled field. */
  const hintOf = (page: Page, label: string) =>
    page.getByLabel(label).evaluate((element) => {
      const ids = (element.getAttribute('aria-describedby') ?? '').split(/\s+/);
      return ids
        .map((id) => document.getElementById(id))
        .filter((node) => node?.classList.contains('hint'))
        .map((node) => node?.textContent ?? '')
        .join(' ');
    });

  test('the endpoint form takes the installation’s limits and says its defaults', async () => {
    const page = await operatorPage(`/projects/${plain.id}/endpoints/new`);
    const timeout = page.getByLabel('Timeout (ms)');
    await timeout.waitFor();
    // The hints come from GET /api/v1/installation.
    await page.getByText('from 100 to 60000 ms').waitFor();
    assert.equal(
      await hintOf(page, 'Timeout (ms)'),
      'Per attempt, connect + response; from 100 to 60000 ms. Empty: 2000 ms.',
    );
    assert.equal(await timeout.getAttribute('placeholder'), '2000');
    assert.equal(
      await hintOf(page, 'Retry schedule (seconds)'),
      "Delays after the first try, or none. Empty: this installation's default (10 s, 20 s).",
    );
    await page.getByLabel('Retry schedule (seconds)').fill('1, 2');
    assert.equal(await hintOf(page, 'Retry schedule (seconds)'), 'Retries after 1 s, 2 s (±20 %).');
    await page.getByLabel('Retry schedule (seconds)').fill('');

    await page.getByLabel('Endpoint URL').fill(HOOK);
    // Above the installation's maximum: refused by the form, nothing sent.
    await timeout.fill('60001');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Whole milliseconds from 100 to 60000.').waitFor();
    assert.equal(await errorOf(timeout), 'Whole milliseconds from 100 to 60000.');
    // 45 s: above Herald's built-in 30 s, within this installation's 60 s.
    await timeout.fill('45000');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('Endpoint created.').waitFor();
    const list = await call<{ data: { timeoutMs: number }[] }>(
      'GET',
      `/api/v1/projects/${plain.id}/endpoints`,
    );
    assert.deepEqual(
      list.body.data.map((e) => e.timeoutMs),
      [45000],
    );
    assert.deepEqual(problems, []);
  });

  test('a project with its own retry schedule: the form says an empty schedule is the project’s', async () => {
    const page = await operatorPage(`/projects/${scheduled.id}/endpoints/new`);
    await page.getByText('from 100 to 60000 ms').waitFor();
    assert.equal(
      await hintOf(page, 'Retry schedule (seconds)'),
      "Delays after the first try, or none. Empty: the project's schedule (1 s, 1 s).",
    );
    assert.equal(await page.getByLabel('Retry schedule (seconds)').getAttribute('placeholder'), '1, 1');
    assert.deepEqual(problems, []);
  });

  test('a one-signature scheme: rotation explains the safe order, rotates to the secret typed, and claims no second signature', async () => {
    const endpoint = await createEndpoint(plain.id, {
      url: HOOK,
      name: 'GitHub style',
      signature: { scheme: 'github' },
    });
    const page = await operatorPage(`/projects/${plain.id}/endpoints/${endpoint}`);
    const card = page.locator('section[aria-labelledby="secret-title"]');
    await card.getByRole('button', { name: 'Rotate secret…' }).click();
    const advice = await card.getByTestId('rotate-advice').innerText();
    assert.match(advice, /carries one signature/);
    assert.match(
      advice,
      /make your receiver accept both the old and the new one, then rotate to\s+that secret/,
    );
    await card.getByLabel('Old secret expires').selectOption('86400');
    // A secret the scheme cannot take is said by the field.
    await card.getByLabel('New secret (optional)').fill('short');
    dash.expectConsole = /status of 400/;
    await card.getByRole('button', { name: 'Rotate now' }).click();
    const field = card.getByLabel('New secret (optional)');
    await page.waitForFunction(() =>
      document.querySelector('[name="newSecret"]')?.getAttribute('aria-invalid'),
    );
    dash.expectConsole = null;
    assert.match((await errorOf(field)) ?? '', /8/);
    const chosen = 'receiver-already-accepts-this-one';
    await field.fill(chosen);
    await card.getByRole('button', { name: 'Rotate now' }).click();
    await card.getByText('Secret rotated.', { exact: false }).waitFor();
    assert.match(
      await card.getByRole('status').innerText(),
      /one signature: requests are signed with the secret you entered from now on/,
    );
    const stored = await call<Secrets>('GET', `/api/v1/projects/${plain.id}/endpoints/${endpoint}/secret`);
    assert.equal(stored.body.secret, chosen);
    assert.equal(stored.body.secrets.length, 2);

    // The older secret still valid: listed, without the claim that it signs.
    await page.reload();
    const note = card.getByTestId('older-secrets-note');
    await note.waitFor();
    const text = await note.innerText();
    assert.doesNotMatch(text, /carry a signature for each/);
    assert.match(text, /carries one signature, made with the current secret/);
    assert.deepEqual(problems, []);
  });

  test('a multi-signature scheme (standard) still says both secrets sign until the old one expires', async () => {
    const endpoint = await createEndpoint(plain.id, { url: HOOK, name: 'Standard' });
    const rotated = await call('POST', `/api/v1/projects/${plain.id}/endpoints/${endpoint}/secret/rotate`, {
      graceSeconds: 3600,
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const page = await operatorPage(`/projects/${plain.id}/endpoints/${endpoint}`);
    const card = page.locator('section[aria-labelledby="secret-title"]');
    const note = card.getByTestId('older-secrets-note');
    await note.waitFor();
    assert.match(await note.innerText(), /requests carry a signature for each until it expires/);
    await card.getByRole('button', { name: 'Rotate secret…' }).click();
    assert.match(await card.getByTestId('rotate-advice').innerText(), /a signature made with each/);
    await card.getByLabel('Old secret stops working').waitFor();
    assert.deepEqual(problems, []);
  });

  test('hmac-sha1-url with a static key: the secret is not used, and no rotation is offered', async () => {
    const endpoint = await createEndpoint(plain.id, {
      url: HOOK,
      name: 'PushPushGo',
      envelope: 'raw',
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: 'ppg-project-42' },
    });
    const page = await operatorPage(`/projects/${plain.id}/endpoints/${endpoint}`);
    const card = page.locator('section[aria-labelledby="secret-title"]');
    await card.getByTestId('secret-unused').waitFor();
    const text = await card.innerText();
    assert.match(text, /signs with its configured key/);
    assert.match(text, /rotating the secret would not change any signature/);
    assert.doesNotMatch(text, /Your receiver uses it/);
    assert.equal(await card.getByRole('button', { name: 'Rotate secret…' }).count(), 0);

    // Without the key the secret signs again: the panel offers rotation as before.
    const other = await createEndpoint(plain.id, {
      url: HOOK,
      name: 'Secret-signed',
      envelope: 'raw',
      signature: { scheme: 'hmac-sha1-url' },
    });
    await page.goto(`${herald.url}/ui/projects/${plain.id}/endpoints/${other}`);
    await card.getByRole('button', { name: 'Rotate secret…' }).waitFor();
    assert.match(await card.innerText(), /Your receiver uses it/);
    assert.deepEqual(problems, []);
  });
});
