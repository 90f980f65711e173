/**
 * A database file this user may not read and write is named with its owner and mode. Tests run as
 * root, which no file mode stops: the refusal of the access check is made up, the file is real.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileAccessHint } from '../../src/store/sqlite/file-access.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-file-access-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const refused = () => {
  throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
};

test("a restored file another user owns is named with its owner, its mode and this process's uid", () => {
  const file = join(dir, 'herald.db');
  writeFileSync(file, '');
  chmodSync(file, 0o600);
  const hint = fileAccessHint(file, refused, 65534);
  assert.match(
    hint ?? '',
    new RegExp(
      `^${file} is owned by uid ${process.getuid?.()} with mode 600 and this process runs as uid 65534, which must read and write it: `,
    ),
  );
  assert.match(hint ?? '', /chown it to the user Herald runs as/);
});

test('a file this user owns but may not write (mode 444) is to be chmodded, not chowned', () => {
  const file = join(dir, 'read-only.db');
  writeFileSync(file, '');
  chmodSync(file, 0o444);
  const owner = process.getuid?.() ?? 0;
  assert.equal(
    fileAccessHint(file, refused, owner),
    `${file} is owned by uid ${owner} with mode 444 and this process runs as uid ${owner}, which must read and write it: chmod 600 it`,
  );
});

test('a file this user reads and writes, or none at all, gets no hint', () => {
  const file = join(dir, 'mine.db');
  writeFileSync(file, '');
  assert.equal(fileAccessHint(file), null);
  assert.equal(fileAccessHint(join(dir, 'missing.db'), refused, 65534), null);
});
