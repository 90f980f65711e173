/** The endpoint form's custom header rows, as the dashboard sends them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCustomHeaders } from '../../src/api/endpoint-input.ts';
import { headerRowsProblem, rowsToHeaders } from '../../src/dashboard/app/header-rows.ts';
import type { SignatureConfig } from '../../src/domain/types.ts';

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

test('the editor refuses the header names and values the API refuses, and no other (custom names)', () => {
  const signature = { scheme: 'standard' } as SignatureConfig;
  const apiTakes = (headers: Record<string, string>) => {
    try {
      checkCustomHeaders(headers, 'POST', signature);
      return true;
    } catch {
      return false;
    }
  };
  const characters = [
    ...Array.from({ length: 0x300 }, (_, code) => String.fromCharCode(code)),
    '\u2028',
    '\u20ac',
    '\ufeff',
    '\ufffd',
    '\ud800',
    '😀',
  ];
  const differ: string[] = [];
  for (const character of characters) {
    for (const rows of [
      [{ name: `X-A${character}b`, value: 'v' }],
      [{ name: 'X-Value', value: `a${character}b` }],
    ]) {
      const editor = headerRowsProblem(rows) === null;
      if (editor !== apiTakes(rowsToHeaders(rows)))
        differ.push(`${JSON.stringify(rows[0])}: editor ${editor}`);
    }
  }
  // Before 2026-12-06 the editor refused only CR and LF in a value: a control character or one
  // above U+00FF was sent, and the API's 400 came back.
  assert.deepEqual(differ, []);
});
