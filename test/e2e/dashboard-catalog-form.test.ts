/**
 * The catalog's new-event-type form in a real browser against a real `herald serve`. The name is
 * sent in the path (PUT /api/v1/event-types/:name), so the API names it `params.name` when it
 * refuses it (a `*`: filters match names exactly); a reviewer found that error shown in a banner
 * below the form, "(params.name)" and all, instead of by the Name field, which kept no mark.
 * The form is for a new type, yet the PUT creates or replaces: a name already in the catalog was
 * saved over that type, its description, example and schema replaced by the form's (empty) ones,
 * which test sends and the customer portal then lacked; now the Name field says the type exists and
 * nothing is written.
 * Any console error or page error fails the test, but the 400 it asks for and the 404 of the lookup.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { errorOf } from '../support/browser.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api } from './harness.ts';

const ADMIN = 'e2e-admin-token-catalog-form-0123';

describe('dashboard catalog form (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;

  test('a name the API refuses is said by the Name field', async () => {
    const page = await dash.signedInPage();
    await page.goto(`${dash.herald.url}/ui/catalog`);
    await page.getByRole('button', { name: 'New event type' }).click();
    const name = page.getByRole('form', { name: 'New event type' }).getByLabel('Name');
    await name.fill('order.*');
    // The form first asks whether the catalog has the name (404: it has not).
    dash.expectConsole = /status of (400|404)/;
    await page.getByRole('button', { name: 'Save event type' }).click();
    await page.getByText('is not an event-type name', { exact: false }).waitFor();
    assert.match((await errorOf(name)) ?? '(no error by the field)', /"order\.\*" is not an event-type name/);
    assert.equal(await page.locator('form .banner-error').count(), 0, 'nothing in the banner');
    assert.equal(await name.inputValue(), 'order.*', 'the name is kept');
    assert.deepEqual(
      problems.filter((problem) => !/^(400 from PUT|404 from GET) .*\/event-types\/order\.\*$/.test(problem)),
      [],
    );
  });

  test('a name "." or ".." is refused by the Name field before anything is sent (fetch sent it to /api/v1/: "no PUT route")', async () => {
    // fetch resolves /api/v1/event-types/.. as a path step, so the API's check never saw the name.
    const page = await dash.signedInPage();
    await page.goto(`${dash.herald.url}/ui/catalog`);
    await page.getByRole('button', { name: 'New event type' }).click();
    const name = page.getByRole('form', { name: 'New event type' }).getByLabel('Name');
    for (const typed of ['..', '.']) {
      await name.fill(typed);
      await page.getByRole('button', { name: 'Save event type' }).click();
      await page.getByText('is not an event-type name', { exact: false }).waitFor();
      assert.match(
        (await errorOf(name)) ?? '(no error by the field)',
        new RegExp(
          `^${JSON.stringify(typed).replaceAll('.', '\\.')} is not an event-type name: a URL resolves`,
        ),
      );
      assert.equal(await page.locator('form .banner-error').count(), 0, 'nothing in the banner');
    }
    assert.deepEqual(problems, [], 'no request answered 4xx');
  });

  test('an entry "." or ".." stored before the rule is shown from the list; its Edit says it cannot be changed, and nothing is asked by its name', async () => {
    // `herald event-types import` took such names before the API refused them: stored so here, in
    // the server's own database. fetch would resolve …/event-types/.. to /api/v1/: any read or write
    // by the name would get another resource's answer.
    const store = await openStore(`sqlite:${join(dash.herald.dataDir, 'herald.db')}`);
    try {
      await store.upsertEventType({ name: '..', description: 'Two dots', example: { dots: 2 } }, Date.now());
      await store.upsertEventType({ name: '.', description: 'One dot' }, Date.now());
    } finally {
      await store.close();
    }
    const page = await dash.page({ signedIn: true });
    const byName: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      // A name resolved as a path step reads /api/v1/ (`..`) or /api/v1/event-types/ (`.`).
      if (/^\/api\/v1\/?$|^\/api\/v1\/event-types\//.test(path)) byName.push(`${request.method()} ${path}`);
    });
    await page.goto(`${dash.herald.url}/ui/catalog`);
    for (const [name, description] of [
      ['..', 'Two dots'],
      ['.', 'One dot'],
    ] as const) {
      const card = page.locator('li.card').filter({ has: page.getByRole('heading', { name, exact: true }) });
      await card.getByText(description).waitFor();
      await card.getByRole('button', { name: `Edit ${name}` }).click();
      const form = page.getByRole('form', { name: `Edit ${name}` });
      assert.equal(await form.getByLabel('Description').inputValue(), description, 'read from the list');
      await form.getByRole('button', { name: 'Save event type' }).click();
      await form.locator('.banner-error').getByText('so it cannot be changed', { exact: false }).waitFor();
      await form.getByRole('button', { name: 'Cancel' }).click();
    }
    assert.deepEqual(byName, [], 'no request named an entry');
    assert.deepEqual(problems, []);
  });

  test('a new type named as one in the catalog is refused by the Name field, and the stored one is kept', async () => {
    const stored = {
      description: 'A player finished a level',
      example: { level: 3, stars: 2 },
      schema: { type: 'object', properties: { level: { type: 'integer' } } },
    };
    const put = await api(dash.herald.url, ADMIN, 'PUT', '/api/v1/event-types/level.completed', stored);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const page = await dash.signedInPage();
    await page.goto(`${dash.herald.url}/ui/catalog`);
    await page.getByRole('heading', { name: 'level.completed' }).waitFor();
    await page.getByRole('button', { name: 'New event type' }).click();
    const form = page.getByRole('form', { name: 'New event type' });
    await form.getByLabel('Name').fill('level.completed');
    await form.getByLabel('Description').fill('Something else');
    await page.getByRole('button', { name: 'Save event type' }).click();
    await page.getByText('is already in the catalog', { exact: false }).waitFor();
    assert.match(
      (await errorOf(form.getByLabel('Name'))) ?? '(no error by the field)',
      /already in the catalog/,
    );
    assert.equal(await form.getByLabel('Description').inputValue(), 'Something else', 'the input is kept');
    const read = await api<Record<string, unknown>>(
      dash.herald.url,
      ADMIN,
      'GET',
      '/api/v1/event-types/level.completed',
    );
    assert.equal(read.status, 200);
    assert.deepEqual(
      { description: read.body['description'], example: read.body['example'], schema: read.body['schema'] },
      stored,
      'the stored type is unchanged',
    );
    assert.deepEqual(problems, []);
  });
});
