/**
 * The CLI builds only the group a run names first (`herald serve`, `herald events list`) and every
 * group otherwise (src/cli/command-groups.ts): each name in its list must be the name of the command
 * it builds, or `herald NAME` would find no command, and a word that is no group's builds them all,
 * so that `herald --help` lists every command and a misspelt one gets commander's suggestion.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMAND_GROUP_NAMES, commandGroups, commandGroupsFor } from '../../src/cli/command-groups.ts';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';

test('each group is built under the name it is listed by, in the order of herald --help', async () => {
  const names = (await commandGroups()).map((c) => c.name());
  assert.deepEqual(names, COMMAND_GROUP_NAMES);
  for (const name of COMMAND_GROUP_NAMES) {
    assert.deepEqual(
      (await commandGroupsFor([name, '--help'])).map((c) => c.name()),
      [name],
    );
  }
});

test('a first word that is no group (an option, help, a misspelt command, none) builds every group', async () => {
  for (const argv of [[], ['--help'], ['--version'], ['help', 'serve'], ['serv'], ['--version', 'serve']]) {
    assert.deepEqual(
      (await commandGroupsFor(argv)).map((c) => c.name()),
      COMMAND_GROUP_NAMES,
      argv.join(' '),
    );
  }
  const misspelt = await runHeraldInProcess(['serv']);
  assert.equal(misspelt.code, 1);
  assert.match(misspelt.stderr, /unknown command 'serv'[\s\S]*Did you mean serve\?/);
});

test('an API command built alone still takes an empty flag as unset', async () => {
  // emptyMeansUnset (api-connection.ts) is applied to the groups that are built, one or all.
  const run = await runHeraldInProcess(['events', 'list', '--project', 'prj_x', '--limit', '', '--url', ''], {
    env: { HERALD_TOKEN: 'x', HERALD_URL: 'http://127.0.0.1:9' },
    killAfterMs: 30_000,
  });
  assert.doesNotMatch(run.stderr, /--limit|positive integer/, run.stderr);
});
