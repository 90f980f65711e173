/**
 * A project's settings in the dashboard, in a real browser against a real `herald serve`. The API
 * lets the admin change a project's name, uid, retry schedule, catalog enforcement and backlog
 * limit (PATCH /api/v1/projects/:project), and the endpoint form even says an empty schedule is
 * "the project's", yet the dashboard had no way to see or set any of them: an operator needed curl.
 * The operator's project now has a Project settings tab; a portal visitor (who may not change them) has
 * none. A Backlog limit or a retry schedule typed "0x10" or "1e3" was read by Number() as 16 or 1000
 * and saved: both now take plain decimal only, as the endpoint's fields do (fieldNumber).
 * Any console error or page error fails the test, but the 409 it asks for.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { errorOf } from '../support/browser.ts';
import { useDashboardBrowser } from './dashboard-browser.ts';
import { api, type HeraldProcess } from './harness.ts';

const ADMIN = 'e2e-admin-token-project-settings-0123';

type Project = {
  id: string;
  name: string;
  uid: string | null;
  retrySchedule: number[] | null;
  enforceCatalog: boolean;
  backlogLimit: number | null;
};

describe('dashboard project settings (browser)', { timeout: 120_000 }, () => {
  const dash = useDashboardBrowser({ adminToken: ADMIN, problemStatus: 400 });
  const { problems } = dash;
  let herald: HeraldProcess;

  before(() => {
    herald = dash.herald;
  });

  async function newProject(name: string, uid?: string): Promise<Project> {
    const made = await api<Project>(
      herald.url,
      ADMIN,
      'POST',
      '/api/v1/projects',
      uid ? { name, uid } : { name },
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body;
  }

  const read = async (id: string) =>
    (await api<Project>(herald.url, ADMIN, 'GET', `/api/v1/projects/${id}`)).body;

  test('the operator sees and changes name, retry schedule, catalog enforcement and backlog limit', async () => {
    const project = await newProject('Harbor Lights');
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}`);
    await page.getByRole('link', { name: 'Project settings' }).click();
    const form = page.getByRole('form', { name: 'Project settings' });
    assert.equal(await form.getByLabel('Name').inputValue(), 'Harbor Lights');
    await form.getByLabel('Name').fill('Harbor Lights EU');
    await form.getByLabel('Retry schedule (seconds)').fill('10, 60, 600');
    await form.getByLabel('Enforce the event catalog').check();
    await form.getByLabel('Backlog limit').fill('5000');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    const stored = await read(project.id);
    assert.equal(stored.name, 'Harbor Lights EU');
    assert.deepEqual(stored.retrySchedule, [10, 60, 600]);
    assert.equal(stored.enforceCatalog, true);
    assert.equal(stored.backlogLimit, 5000);
    await page.getByRole('heading', { level: 1, name: 'Harbor Lights EU' }).waitFor();

    // Emptied: back to the installation's schedule and limit.
    await form.getByLabel('Retry schedule (seconds)').fill('');
    await form.getByLabel('Backlog limit').fill('');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForFunction(async (url) => {
      const answer = await fetch(url, {
        headers: { authorization: `Bearer ${sessionStorage.getItem('herald.adminToken')}` },
      });
      const body = await answer.json();
      return body.retrySchedule === null && body.backlogLimit === null;
    }, `${herald.url}/api/v1/projects/${project.id}`);
    assert.deepEqual(problems, []);
  });

  test('a backlog limit or a retry schedule not in plain decimal is refused by its field, not saved', async () => {
    const project = await newProject('Hex Typed');
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/settings`);
    const form = page.getByRole('form', { name: 'Project settings' });
    // Number() reads both: "0x10" as 16, "1e3" as 1000, and they were saved as those.
    await form.getByLabel('Backlog limit').fill('0x10');
    await form.getByLabel('Retry schedule (seconds)').fill('5, 1e3');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await form.locator('.field-error').first().waitFor();
    assert.equal(await errorOf(form.getByLabel('Backlog limit')), 'A whole number, 0 or more (0: no limit).');
    assert.match(
      (await errorOf(form.getByLabel('Retry schedule (seconds)'))) ?? '(no error by the field)',
      /^Seconds above 0/,
    );
    assert.equal(await page.getByText('Settings saved.').count(), 0);
    const stored = await read(project.id);
    assert.equal(stored.backlogLimit, null, 'no limit of 16 was saved');
    assert.equal(stored.retrySchedule, null, 'no schedule of 5 s and 1000 s was saved');
    assert.deepEqual(problems, []);
  });

  test('a uid another project holds is said by the UID field, and the input is kept', async () => {
    await newProject('Taken', 'north-star');
    const project = await newProject('Mine');
    const page = await dash.signedInPage();
    await page.goto(`${herald.url}/ui/projects/${project.id}/settings`);
    const form = page.getByRole('form', { name: 'Project settings' });
    await form.getByLabel('Name').fill('Mine renamed');
    await form.getByLabel('UID').fill('north-star');
    dash.expectConsole = /status of 409/;
    await form.getByRole('button', { name: 'Save settings' }).click();
    await form.locator('.field-error', { hasText: 'uid' }).waitFor();
    assert.match((await errorOf(form.getByLabel('UID'))) ?? '(no error by the field)', /this uid exists/);
    assert.equal(await form.getByLabel('Name').inputValue(), 'Mine renamed');
    assert.equal((await read(project.id)).name, 'Mine', 'nothing of the refused request applied');
    assert.deepEqual(
      problems.filter((problem) => !/^409 from PATCH /.test(problem)),
      [],
    );
  });

  test('a portal visitor has no Project settings tab', async () => {
    const project = await newProject('Portal only');
    const link = await api<{ url: string }>(
      herald.url,
      ADMIN,
      'POST',
      `/api/v1/projects/${project.id}/portal-links`,
      {},
    );
    assert.equal(link.status, 201);
    const page = await dash.page();
    await page.goto(link.body.url);
    await page.getByRole('link', { name: 'Events' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Project settings' }).count(), 0);
    assert.deepEqual(problems, []);
  });
});
