import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRows } from '../../src/dashboard/app/new-rows.ts';

const row = (id: string, n = 0) => ({ id, n });

test('newRows: a page row already shown (due order moved it along) is left out, the rest kept in order', () => {
  const shown = [row('dlv_a'), row('dlv_b'), row('dlv_c')];
  const page = [row('dlv_b', 1), row('dlv_d'), row('dlv_e')];
  assert.deepEqual(
    newRows(shown, page, (r) => r.id).map((r) => r.id),
    ['dlv_d', 'dlv_e'],
  );
});

test('newRows: a row repeated within one page is kept once; nothing shown keeps the page whole', () => {
  assert.deepEqual(
    newRows([], [row('x'), row('y'), row('x')], (r) => r.id).map((r) => r.id),
    ['x', 'y'],
  );
});
