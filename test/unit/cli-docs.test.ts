/**
 * docs/cli.md names every `herald` command and every flag they take (those of `herald serve`, which
 * are settings, are in docs/configuration.md: test/unit/config-docs.test.ts), so that a new flag
 * cannot go undocumented. What the page says about each is read by people, not by this test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { commandGroups } from '../../src/cli/command-groups.ts';

const CLI_DOC = readFileSync(resolve(import.meta.dirname, '../../docs/cli.md'), 'utf8');

/** `herald events send` and the like, with their own flags (help excluded). */
async function commands(): Promise<{ name: string; flags: string[] }[]> {
  const found: { name: string; flags: string[] }[] = [];
  const walk = (command: Command, prefix: string) => {
    const name = `${prefix} ${command.name()}`.trim();
    if (command.commands.length === 0) {
      const flags = command.options.flatMap((o) => (o.long ? [o.long] : []));
      found.push({ name, flags });
    }
    for (const sub of command.commands) walk(sub, name);
  };
  // serve's flags are its settings, documented in configuration.md.
  for (const command of (await commandGroups()).filter((c) => c.name() !== 'serve')) {
    walk(command, 'herald');
  }
  return found;
}

const mentions = (flag: string) => new RegExp(`${flag}(?![a-z-])`).test(CLI_DOC);

test('docs/cli.md names every command of the CLI', async () => {
  const all = await commands();
  assert.ok(all.length > 20, `found the commands: ${all.map((c) => c.name).join(', ')}`);
  const missing = all
    .map((c) => c.name)
    .filter((name) => {
      const words = name.split(' ');
      const last = words.at(-1)!;
      // `herald endpoints attempts` is in the table as `herald endpoints attempts\|stats\|recover`.
      return !new RegExp(`herald ${words.slice(1, -1).join(' ')}[ \\w|\\\\-]*\\b${last}\\b`).test(CLI_DOC);
    });
  assert.deepEqual(missing, []);
});

test('docs/cli.md names every flag of the CLI', async () => {
  const missing = (await commands()).flatMap((c) =>
    c.flags.filter((f) => !mentions(f)).map((f) => `${c.name} ${f}`),
  );
  assert.deepEqual(missing, []);
});

test('herald serve --help says where the settings it has no flag for are', async () => {
  const serve = (await commandGroups()).find((c) => c.name() === 'serve');
  assert.ok(serve);
  // Its flags are 8 of some 40 settings: the rest are HERALD_* variables only.
  assert.match(serve.helpInformation(), /HERALD_\*\s+environment\s+variable[\s\S]*docs\/configuration\.md/);
  // The command list of `herald --help` keeps its one line.
  assert.equal(serve.summary(), 'run Herald: HTTP API and dispatcher (see --role)');
});
