/** What an empty list says narrowed it (narrowedBy in src/cli/print.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { narrowedBy } from '../../src/cli/print.ts';

test('the flags given are named, the cursor apart', () => {
  assert.equal(
    narrowedBy({ type: 'a.b', since: '1h' }, ['type', 'since', 'cursor']),
    ' matching --type, --since',
  );
  assert.equal(
    narrowedBy({ type: 'a.b', cursor: 'c' }, ['type', 'cursor']),
    ' matching --type after --cursor',
  );
  assert.equal(narrowedBy({}, ['type', 'cursor']), '');
});

test('an empty flag counts as unset: it narrowed nothing', () => {
  assert.equal(narrowedBy({ type: '', since: '  ' }, ['type', 'since']), '');
  assert.equal(narrowedBy({ type: '', status: 'failed' }, ['type', 'status']), ' matching --status');
});
