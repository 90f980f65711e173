/**
 * The catalog's new-event-type form in a real browser against a real `herald serve`. The name is
 * sent in the path (PUT /api/v1/event-types/:name), so the API names it `params.name` when it
 * refuses it (a `*`: filters match names exactly); a reviewer found that error shown in a banner
 * below the form, "(params.name)" and all, instead of by the Name field, which kept no mark.
 * Any console error or page error fails the test, but the 400 it asks for.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorOf } from '../support/browser.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';

const ADMIN = 'e2e-admin-token-catalog-form-0123';

describe('dashboard catalog form (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;

  test('a name the API refuses is said by the Name field', async () => {
    const page = await dash.page({ signedIn: true });
    await page.goto(`${dash.herald.url}/ui/catalog`);
    await page.getByRole('button', { name: 'New event type' }).click();
    const name = page.getByRole('form', { name: 'New event type' }).getByLabel('Name');
    await name.fill('order.*');
    dash.expectConsole = /status of 400/;
    await page.getByRole('button', { name: 'Save event type' }).click();
    await page.getByText('is not an event-type name', { exact: false }).waitFor();
    assert.match((await errorOf(name)) ?? '(no error by the field)', /"order\.\*" is not an event-type name/);
    assert.equal(await page.locator('form .banner-error').count(), 0, 'nothing in the banner');
    assert.equal(await name.inputValue(), 'order.*', 'the name is kept');
    assert.deepEqual(
      problems.filter((problem) => !/^400 from PUT .*\/event-types\//.test(problem)),
      [],
    );
  });
});
