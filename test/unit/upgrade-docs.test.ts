/**
 * docs/deployment.md's Upgrades section says "each is described below" of the migrations a new
 * version brings: an operator reads there what a migration locks and for how long, and what a
 * process of an older version does beside it. So every migration file of both stores is named there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { migrationFiles as postgresMigrations } from '../../src/store/postgres/migrate.ts';
import { migrationFiles as sqliteMigrations } from '../../src/store/sqlite/migrate.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/deployment.md'), 'utf8');

/** The text of the `## Upgrades` section, up to the next `## ` heading. */
function upgradesSection(): string {
  const start = DOC.indexOf('\n## Upgrades\n');
  assert.ok(start >= 0, 'deployment.md has an Upgrades section');
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

test("deployment.md's Upgrades section describes every migration of both stores", () => {
  const section = upgradesSection();
  const missing = [
    ...sqliteMigrations().map((file) => `sqlite/${file}`),
    ...postgresMigrations().map((file) => `postgres/${file}`),
  ].filter((name) => !section.includes(`\`${name.split('/')[1]}\``));
  assert.deepEqual(missing, []);
});
