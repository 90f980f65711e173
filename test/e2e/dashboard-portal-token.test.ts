/**
 * A customer portal page already open, given a new link, in a real browser against a real `herald
 * serve` on SQLite. The portal read `#token=` once, when the page loaded: opening a second link in
 * the same tab (a link of another project, or a fresh one after the first expired) changed only the
 * address, and the page went on showing the first project, with the first token, until reloaded;
 * the new token stayed in the address bar. The page now takes the new token when the hash changes.
 * Any console error, page error or answer from 400 up fails the test.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { newProject, useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-portal-token-0123';

describe('dashboard portal takes a new #token= without a reload (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  let herald: HeraldProcess;
  let first: string;
  let second: string;

  async function link(projectPath: string): Promise<string> {
    const made = await api<{ token: string }>(herald.url, ADMIN, 'POST', `${projectPath}/portal-links`, {});
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body.token;
  }

  before(async () => {
    herald = dash.herald;
    first = await link(await newProject(herald, ADMIN, 'First customer'));
    second = await link(await newProject(herald, ADMIN, 'Second customer'));
  });

  test('a second link opened in the same tab shows its project, and leaves the address bar', async () => {
    const page = await dash.page();
    await page.goto(`${herald.url}/ui/portal#token=${first}`);
    await page.getByRole('heading', { name: 'First customer' }).waitFor();
    await page.evaluate((token) => {
      window.location.hash = `token=${token}`;
    }, second);
    await page.getByRole('heading', { name: 'Second customer' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'First customer' }).count(), 0);
    await page.waitForFunction(() => window.location.hash === '');
    assert.equal(new URL(page.url()).hash, '');
    assert.deepEqual(dash.problems, []);
  });

  test('a link opened on the "link expired" page signs in', async () => {
    const page = await dash.page();
    await page.goto(`${herald.url}/ui/portal`);
    await page.getByRole('heading', { name: /no longer valid/ }).waitFor();
    await page.evaluate((token) => {
      window.location.hash = `token=${token}`;
    }, first);
    await page.getByRole('heading', { name: 'First customer' }).waitFor();
    assert.deepEqual(dash.problems, []);
  });
});
