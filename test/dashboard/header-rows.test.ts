/** The endpoint form's custom header rows, as the dashboard sends them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rowsToHeaders } from '../../src/dashboard/app/header-rows.ts';

test('spaces and tabs around a value are left out, as HTTP leaves them out (the API refuses them)', () => {
  assert.deepEqual(
    rowsToHeaders([
      { name: ' X-Token ', value: ' Bearer abc\t' },
      { name: 'X-Inner', value: 'a \t b' },
      { name: 'X-Nbsp', value: '\u00a0v\u00a0' },
      { name: 'X-Empty', value: '  ' },
      { name: '', value: '' },
    ]),
    { 'X-Token': 'Bearer abc', 'X-Inner': 'a \t b', 'X-Nbsp': '\u00a0v\u00a0', 'X-Empty': '' },
  );
});
