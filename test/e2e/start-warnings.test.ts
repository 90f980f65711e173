/**
 * What `herald serve` warns an operator about at start, on a data directory an earlier start (or an
 * older version) left behind: an admin-token file that HERALD_ADMIN_TOKEN replaced (a start without
 * the variable would accept it again), a database other users of the machine can read, and an
 * open-file limit too low for the delivery concurrency.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHerald } from './harness.ts';

describe('serve: what it warns about at start', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-start-warnings-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('an admin-token file HERALD_ADMIN_TOKEN replaced, and a database file readable by others', async () => {
    // A first start with no token generates one and keeps it in the data directory.
    const first = await startHerald({ dataDir });
    await first.kill('SIGTERM');
    const generated = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const warnings = (lines: Record<string, unknown>[]) =>
      lines.filter((l) => l.level === 40).map((l) => String(l.msg));

    // The same token set in the variable: nothing to say.
    const same = await startHerald({ dataDir, env: { HERALD_ADMIN_TOKEN: generated } });
    await same.kill('SIGTERM');
    assert.deepEqual(
      warnings(same.logLines()).filter((m) => m.includes('admin token')),
      [],
    );

    // A rotation through the variable: the file's old token would come back without it.
    const rotated = await startHerald({
      dataDir,
      env: { HERALD_ADMIN_TOKEN: 'start-warnings-new-token-0123456789' },
    });
    await rotated.kill('SIGTERM');
    const tokenLine = rotated.logLines().find((l) => String(l.msg).includes('holds another admin token'));
    assert.equal(tokenLine?.level, 40);
    assert.equal(tokenLine?.file, join(dataDir, 'admin-token'));
    assert.ok(!rotated.output().includes(generated), 'the old token itself is never logged');
    assert.ok(!rotated.output().includes('start-warnings-new-token'), 'nor the new one');

    // A database made 0644 (an older version, a restored copy): named, with its mode.
    const database = join(dataDir, 'herald.db');
    assert.deepEqual(
      warnings(first.logLines()).filter((m) => m.includes('chmod 600')),
      [],
      'a database Herald created is 0600',
    );
    chmodSync(database, 0o644);
    const open = await startHerald({ dataDir, env: { HERALD_ADMIN_TOKEN: generated } });
    await open.kill('SIGTERM');
    const modeLine = open.logLines().find((l) => l.path === database);
    assert.equal(modeLine?.level, 40);
    assert.equal(modeLine?.mode, '644');
    assert.match(String(modeLine?.msg), /other users of this machine can read it .* chmod 600 it/);

    // The key file and the admin-token file put back from a backup as 0644: named too.
    chmodSync(database, 0o600);
    const keyFile = join(dataDir, 'encryption-key');
    const tokenFile = join(dataDir, 'admin-token');
    chmodSync(keyFile, 0o644);
    chmodSync(tokenFile, 0o640);
    const restored = await startHerald({ dataDir });
    await restored.kill('SIGTERM');
    const keyLine = restored.logLines().find((l) => l.path === keyFile);
    assert.equal(keyLine?.level, 40);
    assert.equal(keyLine?.mode, '644');
    assert.match(
      String(keyLine?.msg),
      /other users of this machine can read it \(it opens the endpoint secrets.*chmod 600 it/,
    );
    const tokenModeLine = restored.logLines().find((l) => l.path === tokenFile);
    assert.equal(tokenModeLine?.mode, '640');
    assert.match(String(tokenModeLine?.msg), /chmod 600 it/);
    assert.equal(
      restored.logLines().find((l) => l.path === database),
      undefined,
      'the database is 0600 again: nothing to say',
    );
  });

  test('after a rotation away from the embedded default, a key file the start no longer uses is named (the retired key beside the database)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-start-warnings-key-'));
    try {
      const first = await startHerald({ dataDir: dir });
      await first.kill('SIGTERM');
      const keyFile = join(dir, 'encryption-key');
      const fileKey = readFileSync(keyFile, 'utf8').trim();
      const keyLine = (lines: Record<string, unknown>[]) => lines.find((l) => l.file === keyFile);
      const NEW_KEY = 'MW7hcrHXcdYgqBXEDYxF1acwY44iwHFRpySug2Ujccg=';

      // The file's own key given as the variable, written in hex (configuration.md takes either):
      // the key in use, not a retired one. Compared as text, it was named at every start.
      const sameInHex = await startHerald({
        dataDir: dir,
        env: { HERALD_ENCRYPTION_KEY: Buffer.from(fileKey, 'base64').toString('hex') },
      });
      await sameInHex.kill('SIGTERM');
      assert.equal(keyLine(sameInHex.logLines()), undefined, sameInHex.output());

      // Step 2 of the rotation: the file's key is the previous one, in use: nothing to say.
      const rotating = await startHerald({
        dataDir: dir,
        env: { HERALD_ENCRYPTION_KEY: NEW_KEY, HERALD_ENCRYPTION_KEY_PREVIOUS: fileKey },
      });
      await rotating.kill('SIGTERM');
      assert.equal(keyLine(rotating.logLines()), undefined, rotating.output());

      // Step 3 done: the file holds the retired key, beside the database. Before, not a word.
      const rotated = await startHerald({ dataDir: dir, env: { HERALD_ENCRYPTION_KEY: NEW_KEY } });
      await rotated.kill('SIGTERM');
      const line = keyLine(rotated.logLines());
      assert.equal(line?.level, 40, rotated.output());
      assert.equal(
        line?.msg,
        `HERALD_ENCRYPTION_KEY is set, and ${keyFile} holds another key (the embedded default's, retired by a rotation): it is not used, but it still opens what was sealed with it (backups taken before the rotation) and lies beside the database: move it to where retired keys are kept, apart from the backups (docs/operations.md, Rotating keys and tokens)`,
      );
      assert.ok(!rotated.output().includes(fileKey) && !rotated.output().includes(NEW_KEY), 'no key logged');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an open-file limit too low for the delivery concurrency: attempts in flight capped, and said', async () => {
    const server = await startHerald({ openFileLimit: 512 });
    try {
      const line = server.logLines().find((l) => String(l.msg).startsWith('the open-file limit (512)'));
      assert.equal(line?.level, 40);
      assert.equal(line?.concurrency, 256, '512 less the 256 kept for the API and the database');
      assert.match(String(line?.msg), /instead of HERALD_DELIVERY_CONCURRENCY's 1024/);
    } finally {
      await server.dispose();
    }
    const roomy = await startHerald({ openFileLimit: 4096 });
    try {
      assert.equal(
        roomy.logLines().some((l) => String(l.msg).startsWith('the open-file limit')),
        false,
      );
    } finally {
      await roomy.dispose();
    }
  });
});
