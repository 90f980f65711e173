/**
 * An empty argument or id flag of an API command is refused by the CLI, naming it as typed, before
 * any request (checkEmptyIds in src/cli/api-connection.ts), on every real command: found by walking
 * them, so a command added later is covered too. test/e2e/cli-input-checks.test.ts runs a few
 * through the real `herald` process, which calls checkEmptyIds in apiAction and in listen.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { checkEmptyIds } from '../../src/cli/api-connection.ts';
import { commandGroups } from '../../src/cli/command-groups.ts';
import { CommandError } from '../../src/cli/run-command.ts';

/** Fresh commands (commander keeps parsed values on them): the API commands (those with --url). */
async function apiCommands(): Promise<Command[]> {
  // A group's subcommands, or the command itself when it has none (listen).
  return (await commandGroups())
    .flatMap((g) => (g.commands.length > 0 ? g.commands : [g]))
    .filter((c) => c.options.some((o) => o.long === '--url'));
}

const pathOf = (c: Command): string => (c.parent ? `${c.parent.name()} ${c.name()}` : c.name());

/**
 * `command` as parsed from `values` (its arguments) and `flags`, its action replaced: what
 * checkEmptyIds then sees is what the real action would see.
 */
async function parsed(path: string, values: string[], flags: Record<string, string>): Promise<Command> {
  const command = (await apiCommands()).find((c) => pathOf(c) === path);
  assert.ok(command, path);
  command.exitOverride().action(() => {});
  await command.parseAsync([...values, ...Object.entries(flags).flat()], { from: 'user' });
  return command;
}

/** The command's arguments, filled in, and its required flags, given. */
function filled(command: Command): { values: string[]; flags: Record<string, string> } {
  const required = command.options.filter((o) => o.mandatory || o.description.endsWith('(required)'));
  return {
    values: command.registeredArguments.map(() => 'x'),
    flags: Object.fromEntries(required.map((o) => [o.long!, 'http://127.0.0.1:9/x'])),
  };
}

describe('CLI: empty ids', () => {
  test('every argument, --project and --endpoint of every API command: empty is refused naming it', async () => {
    let checked = 0;
    for (const command of await apiCommands()) {
      const path = pathOf(command);
      const { values, flags } = filled(command);
      for (const [i, argument] of command.registeredArguments.entries()) {
        const given = await parsed(path, values.with(i, ''), flags);
        assert.throws(
          () => checkEmptyIds(given),
          (e: unknown) =>
            e instanceof CommandError && e.message === `<${argument.name()}>: must not be empty`,
          `${path} <${argument.name()}>`,
        );
        checked++;
      }
      for (const id of ['--project', '--endpoint']) {
        if (!command.options.some((o) => o.long === id)) continue;
        const given = await parsed(path, values, { ...flags, [id]: '' });
        assert.throws(
          () => checkEmptyIds(given),
          (e: unknown) => e instanceof CommandError && e.message === `${id}: must not be empty`,
          `${path} ${id}`,
        );
        checked++;
      }
      // Filled in, nothing is refused.
      checkEmptyIds(await parsed(path, values, flags));
    }
    // 48 today: the arguments, every --project, and listen's --endpoint.
    assert.ok(checked >= 48, `${checked} checked`);
  });

  test('events send --idempotency-key "" is refused naming it, not sent without a key', async () => {
    // Taken as unset, `--idempotency-key "$ORDER_ID"` with the variable never set sent no key, and
    // each retry of the command stored the event again.
    const send = await parsed('events send', ['x'], { '--project': 'p', '--idempotency-key': '' });
    assert.throws(
      () => checkEmptyIds(send),
      (e: unknown) => e instanceof CommandError && e.message === '--idempotency-key: must not be empty',
    );
    const keyed = await parsed('events send', ['x'], { '--project': 'p', '--idempotency-key': 'k' });
    assert.doesNotThrow(() => checkEmptyIds(keyed));
  });

  test('other empty flags still count as unset (docs/cli.md): not refused', async () => {
    const list = await parsed('events list', [], { '--project': 'p', '--type': '', '--cursor': '' });
    assert.doesNotThrow(() => checkEmptyIds(list));
    const listen = await parsed('listen', [], {
      '--project': 'p',
      '--forward-to': 'http://127.0.0.1:9/x',
      '--secret': '',
    });
    assert.doesNotThrow(() => checkEmptyIds(listen));
  });
});

describe('CLI: other empty flags', () => {
  test('every other flag that takes a value, of every API command: empty is its default or unset, never refused', async () => {
    // `--limit ""` was refused (`expected a positive integer, got `), as were `--attempts ""`,
    // `--grace ""`, `--status ""`, `--backlog-limit ""` and `--callback-envelope ""`, where
    // docs/cli.md says an empty flag counts as unset, for every flag but those naming what a
    // command is about.
    let checked = 0;
    const wrong: string[] = [];
    for (const command of await apiCommands()) {
      const path = pathOf(command);
      const { values, flags } = filled(command);
      for (const option of command.options) {
        if (!(option.required || option.optional) || option.long === undefined) continue;
        if (['--project', '--endpoint', '--idempotency-key', '--secret-file'].includes(option.long)) continue;
        // listen --forward-to: commander requires it; empty, it is refused as not a URL.
        if (option.mandatory) continue;
        checked++;
        try {
          const given = await parsed(path, values, { ...flags, [option.long]: '' });
          const value = given.getOptionValue(option.attributeName());
          if (value !== option.defaultValue) wrong.push(`${path} ${option.long}: ${JSON.stringify(value)}`);
        } catch (error) {
          wrong.push(`${path} ${option.long}: ${(error as Error).message}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(checked >= 90, `${checked} checked`);
  });

  test('rotate-secret --secret-file "" is refused naming it: taken as unset, it would rotate to a new secret', async () => {
    const rotate = await parsed('endpoints rotate-secret', ['ep'], { '--project': 'p', '--secret-file': '' });
    assert.throws(
      () => checkEmptyIds(rotate),
      (e: unknown) => e instanceof CommandError && e.message === '--secret-file: must not be empty',
    );
  });
});
