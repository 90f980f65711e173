/** `herald endpoints replay|recover` cut short: the line that says how to go on keeps the range's end. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leftLine } from '../../src/cli/commands/endpoint-history.ts';

test('the command to go on names its lever and keeps --until when one was given', () => {
  assert.equal(
    leftLine('replay', '2026-12-01T10:00:00.000Z', undefined),
    'more to replay: run again with --since 2026-12-01T10:00:00.000Z',
  );
  assert.equal(
    leftLine('replay', '2026-12-01T10:00:00.000Z', '2026-12-02T00:00:00Z'),
    'more to replay: run again with --since 2026-12-01T10:00:00.000Z --until 2026-12-02T00:00:00Z',
  );
  assert.equal(
    leftLine('recover', '2026-12-01T10:00:00.000Z', '2026-12-02T00:00:00Z'),
    'more to recover: run again with --since 2026-12-01T10:00:00.000Z --until 2026-12-02T00:00:00Z',
  );
});
