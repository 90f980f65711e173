/**
 * src/schema-watch.ts on its own, fed by a function standing for Store.unknownMigrations (the
 * stores' reads are in test/e2e/schema-newer-while-running.test.ts): what the start already found
 * is not news, a failed read is skipped, each new migration is said once, and
 * HERALD_ALLOW_NEWER_SCHEMA makes the line a warning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSchemaWatch } from '../../src/schema-watch.ts';

function recorder() {
  const lines: { level: 'error' | 'warn'; fields: { unknownMigrations?: string[] }; msg: string }[] = [];
  return {
    lines,
    log: {
      error: (fields: object, msg: string) => lines.push({ level: 'error', fields, msg }),
      warn: (fields: object, msg: string) => lines.push({ level: 'warn', fields, msg }),
    },
  };
}

/** Waits until `read` was called `n` more times. */
async function reads(counter: { calls: number }, n: number): Promise<void> {
  const target = counter.calls + n;
  for (let i = 0; i < 500 && counter.calls < target; i++) await sleep(2);
  assert.ok(counter.calls >= target, `read ${counter.calls} times`);
}

test('unknown migrations the start already found are not said again; a new one is, once, as an error', async () => {
  const { lines, log } = recorder();
  let answer: string[] | Error = ['0900_seen.sql'];
  const counter = { calls: 0 };
  const watch = startSchemaWatch({
    read: async () => {
      counter.calls++;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    atStart: ['0900_seen.sql'],
    allowNewerSchema: false,
    log,
    intervalMs: 2,
  });
  try {
    assert.equal(watch.unknownCount(), 1);
    await reads(counter, 3);
    assert.equal(lines.length, 0);
    answer = new Error('connection refused');
    await reads(counter, 3);
    assert.equal(lines.length, 0, 'a failed read says nothing here');
    assert.equal(watch.unknownCount(), 1, 'a failed read keeps the last count');
    answer = ['0900_seen.sql', '0901_new.sql'];
    await reads(counter, 3);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'error');
    assert.deepEqual(lines[0]!.fields.unknownMigrations, ['0900_seen.sql', '0901_new.sql']);
    assert.equal(watch.unknownCount(), 2);
  } finally {
    watch.stop();
  }
});

test('with HERALD_ALLOW_NEWER_SCHEMA the line is a warning', async () => {
  const { lines, log } = recorder();
  const counter = { calls: 0 };
  const watch = startSchemaWatch({
    read: async () => {
      counter.calls++;
      return ['0901_new.sql'];
    },
    atStart: [],
    allowNewerSchema: true,
    log,
    intervalMs: 2,
  });
  try {
    await reads(counter, 3);
    assert.deepEqual(
      lines.map((l) => l.level),
      ['warn'],
    );
  } finally {
    watch.stop();
  }
});
