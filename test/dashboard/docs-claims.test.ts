/**
 * What the docs say the dashboard shows, checked against what it asks the API for (newcomer report:
 * operations.md said operational events were listed "in the dashboard"; no screen reads them).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

test('operations.md says operational events are in the dashboard only if a screen reads them', () => {
  const section = /### Operational events\n([\s\S]*?)(?=\n#{2,3} )/.exec(read('docs/operations.md'))?.[1];
  assert.ok(section, 'docs/operations.md has an "Operational events" section');
  const client = read('src/dashboard/app/api/client.ts');
  const dashboardReadsThem = client.includes('/operational-events');
  const text = section.replace(/\s+/g, ' ');
  const claimsList = /listed per project at `[^`]*` and in the dashboard/i.test(text);
  assert.ok(
    dashboardReadsThem || !claimsList,
    `operations.md claims a dashboard list: ${text.slice(0, 400)}`,
  );
  if (!dashboardReadsThem) assert.match(text, /the dashboard has no list of them/);
  // Forwarded ones are events of herald-operator, which the Events screen lists.
  assert.match(text, /herald-operator/);
  assert.ok(client.includes('/events'), 'the dashboard lists events');
});
