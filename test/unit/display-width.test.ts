/** Terminal columns of text (src/cli/display-width.ts) and the CLI's tables aligned by them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayWidth, padEndColumns } from '../../src/cli/display-width.ts';
import { alignedTable } from '../../src/cli/table.ts';

test('a character takes the columns a terminal gives it', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['order.paid', 10],
    ['café', 4], // precomposed é
    ['cafe\u0301', 4], // e + COMBINING ACUTE ACCENT: the mark takes no column
    ['\u0301', 0], // a lone combining mark
    ['注文', 4], // CJK ideographs (East Asian Wide)
    ['ｱ', 1], // HALFWIDTH KATAKANA (East Asian Halfwidth)
    ['Ａ', 2], // FULLWIDTH LATIN CAPITAL LETTER A (East Asian Fullwidth)
    ['한국', 4], // Hangul syllables
    ['\u1100\u1161', 2], // conjoining jamo: one syllable
    ['😀', 2], // emoji
    ['👍🏽', 2], // emoji and skin-tone modifier: one grapheme
    ['👩‍💻', 2], // a ZWJ sequence
    ['🇯🇵', 2], // a flag: two regional indicators
    ['❤️', 2], // a text-style symbol with VARIATION SELECTOR-16
    ['❤', 1], // … and without it
    ['1️⃣', 2], // a keycap
    ['a\u200bb', 2], // ZERO WIDTH SPACE
    ['\u00ad', 0], // SOFT HYPHEN (a format character)
    ['Ω', 1], // Greek (East Asian Ambiguous: one, as outside East Asian locales)
    ['𠀀', 2], // CJK Extension B (plane 2)
    ['\u{1FAE8}', 2], // SHAKING FACE, Unicode 15: wide by Emoji_Presentation
  ];
  const wrong = cases
    .filter(([text, width]) => displayWidth(text) !== width)
    .map(([text, width]) => `${JSON.stringify(text)}: ${displayWidth(text)}, not ${width}`);
  assert.deepEqual(wrong, []);
});

test('padEndColumns pads to columns, never cuts', () => {
  assert.equal(padEndColumns('注文', 6), '注文  ');
  assert.equal(padEndColumns('cafe\u0301', 6), 'cafe\u0301  ');
  assert.equal(padEndColumns('toolong', 3), 'toolong');
});

test('a table keeps its columns in line whatever script its cells are in', () => {
  const lines = alignedTable(
    ['TYPE', 'STATUS', 'ID'],
    [
      ['order.paid', 'failed', 'dlv_1'],
      ['注文.支払い', 'succeeded', 'dlv_2'],
      ['cafe\u0301.opened', 'pending', 'dlv_3'],
      ['🎉.party', 'failed', 'dlv_4'],
    ],
  );
  // Every STATUS and ID starts at the same column as its header.
  const columnOf = (line: string, word: string) => displayWidth(line.slice(0, line.indexOf(word)));
  const starts = lines
    .slice(1)
    .map((line, i) => [
      columnOf(line, ['failed', 'succeeded', 'pending', 'failed'][i]!),
      columnOf(line, `dlv_${i + 1}`),
    ]);
  const header = [columnOf(lines[0]!, 'STATUS'), columnOf(lines[0]!, 'ID')];
  // Before 2026-12-06 widths were UTF-16 lengths: the CJK cell (6 units, 11 columns) pushed its
  // row's later columns out, and the combining mark (a unit, no column) pulled its row's in.
  assert.deepEqual(starts, [header, header, header, header]);
  assert.equal(lines[2], '注文.支払い  succeeded  dlv_2');
});
