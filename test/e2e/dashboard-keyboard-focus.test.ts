/**
 * Where the keyboard focus is after a button's action, in a real browser against a real `herald
 * serve`. A reviewer found that buttons disabled while their action runs (Recover, Replay, Send
 * test event, Save changes, Refresh…) lost the focus to <body>: a keyboard user who pressed Enter on
 * one was put back at the top of the page, the next Tab on "Skip to content". The focus now comes
 * back to the button, unless the action moved it on purpose (a field with an error).
 * Any console error or page error fails the test, but the 404 a test asks for.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, quietEndpoint, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-keyboard-focus-0123';

describe('dashboard keyboard focus after an action (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;
  let p: string;

  before(async () => {
    herald = dash.herald;
    p = await newProject(herald, ADMIN, 'Key Quest');
  });

  const endpoint = (name: string) => quietEndpoint(herald, ADMIN, p, { name });

  /** The focused element's text, or BODY when nothing has the focus. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const element = document.activeElement;
      return element && element !== document.body ? element.textContent?.trim() : 'BODY';
    });

  test('Recover and Replay keep the focus on their button', async () => {
    const id = await endpoint('Levers');
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${id}`);
    for (const [button, done] of [
      ['Recover', /failed deliver(y|ies) queued again/],
      ['Replay', /missed events? queued for this endpoint/],
    ] as const) {
      await page.getByRole('button', { name: button, exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.getByText(done).waitFor();
      assert.equal(await focused(page), button);
    }
    assert.deepEqual(problems, []);
  });

  test('a save the server refuses leaves the focus on Save changes, by its message', async () => {
    const id = await endpoint('Gone meanwhile');
    const page = await dash.page({ signedIn: true });
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${id}/settings`);
    await page.getByLabel('Name', { exact: true }).fill('Renamed');
    const deleted = await api(herald.url, ADMIN, 'DELETE', `${p}/endpoints/${id}`);
    assert.equal(deleted.status, 204);
    dash.expectConsole = /status of 404/;
    await page.getByRole('button', { name: 'Save changes' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('.banner-error').waitFor();
    assert.equal(await focused(page), 'Save changes');
    assert.deepEqual(
      problems.filter((problem) => !/^404 from PATCH /.test(problem)),
      [],
    );
    // Its page reads the deleted endpoint again (404s) while it is open: not into the next test.
    await page.context().close();
  });

  test('a field the server refuses gets the focus, not the button', async () => {
    const id = await endpoint('Bad URL');
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui${p.slice('/api/v1'.length)}/endpoints/${id}/settings`);
    // A URL with no host: only the server refuses it (the form's own check takes it as a URL). A
    // header the editor refuses itself since 2026-12-06 (a Content-Type that does not describe
    // the body) was this test's refusal until then.
    await page.getByLabel('Endpoint URL').fill('http:///x');
    dash.expectConsole = /status of 400/;
    await page.getByRole('button', { name: 'Save changes' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Must name a host after "//"', { exact: false }).waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'url');
    assert.deepEqual(
      problems.filter((problem) => !/^400 from PATCH /.test(problem)),
      [],
    );
  });
});
