/**
 * A full disk and a process out of file descriptors, over real HTTP (listen(0) on loopback): every
 * refused request gets 503 with its code and Retry-After, the log has one line per 10 s without a
 * stack (not one per request), herald_store_failures_total counts them, /readyz stays 200 (reads
 * still work, and every instance shares the disk), and after a full disk one line says writes go
 * through again. The full disk is real SQLite: each project creation first writes through a group
 * commit to a second database on the same directory held at its size limit (`PRAGMA
 * max_page_count`, which only the connection that sets it obeys); out of file descriptors is the
 * real SQLITE_CANTOPEN of a database in a missing directory, thrown by the project list.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { GroupCommit } from '../../src/store/sqlite/group-commit.ts';
import type { Store } from '../../src/store/store.ts';
import { startLoggedHttpApi } from '../support/logged-http-api.ts';

test('a full disk and exhausted file descriptors: 503s with Retry-After, one log line per 10 s without a stack, counted; writes going through again are one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-store-full-'));
  const real = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const disk = new DatabaseSync(join(dir, 'disk.db'));
  disk.exec('PRAGMA journal_mode = WAL; CREATE TABLE filler (v TEXT)');
  disk.exec(`PRAGMA max_page_count = ${Number(disk.prepare('PRAGMA page_count').get()!.page_count) + 5}`);
  const diskWrites = new GroupCommit(disk, () => {});
  let cantOpen: unknown = null;
  try {
    new DatabaseSync(join(dir, 'missing', 'x.db'));
  } catch (error) {
    cantOpen = error;
  }
  let outOfFiles = false;
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'createProject')
        return async (...args: Parameters<Store['createProject']>) => {
          await diskWrites.submit(() =>
            disk.prepare('INSERT INTO filler VALUES (?)').run('x'.repeat(100_000)),
          );
          return target.createProject(...args);
        };
      if (prop === 'listProjects' && outOfFiles)
        return async () => {
          throw cantOpen;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const { lines, call, storeFailures: failures, close } = await startLoggedHttpApi(store);
  try {
    const fullBefore = await failures('full');
    const replies = await Promise.all(
      Array.from({ length: 25 }, (_, i) => call('POST', '/api/v1/projects', { name: `p${i}` })),
    );
    for (const reply of replies) {
      assert.equal(reply.status, 503);
      assert.equal(reply.headers.get('retry-after'), '60');
      assert.equal(
        ((await reply.json()) as { error: { code: string } }).error.code,
        'HERALD_ERR_STORAGE_FULL',
      );
    }
    const full = lines.filter((l) => /disk is full/.test(String(l.msg)));
    assert.equal(full.length, 1, JSON.stringify(lines));
    assert.equal(full[0]!.level, 50); // error
    assert.equal((full[0]!.cause as { code?: string }).code, 'ERR_SQLITE_ERROR');
    assert.equal(await failures('full'), fullBefore + 25);
    // Reads still work and every instance shares the disk: /readyz stays 200 (the metric is the alert).
    assert.equal((await call('GET', '/readyz')).status, 200);

    // Space freed: the next project is created, and one info line says writes go through again.
    disk.exec('PRAGMA max_page_count = 1000000');
    assert.equal((await call('POST', '/api/v1/projects', { name: 'after' })).status, 201);
    assert.equal((await call('POST', '/api/v1/projects', { name: 'after-2' })).status, 201);
    const recovered = lines.filter((l) => /takes writes again/.test(String(l.msg)));
    assert.equal(recovered.length, 1, JSON.stringify(lines));
    assert.equal(recovered[0]!.level, 30); // info
    assert.equal(recovered[0]!.refusedSinceLastLine, 24);

    // Out of file descriptors: 503 HERALD_ERR_RESOURCES, one line, counted.
    outOfFiles = true;
    const resourcesBefore = await failures('resources');
    const listed = await Promise.all(Array.from({ length: 10 }, () => call('GET', '/api/v1/projects')));
    for (const reply of listed) {
      assert.equal(reply.status, 503);
      assert.equal(reply.headers.get('retry-after'), '5');
      assert.equal(((await reply.json()) as { error: { code: string } }).error.code, 'HERALD_ERR_RESOURCES');
    }
    const files = lines.filter((l) => /out of file descriptors/.test(String(l.msg)));
    assert.equal(files.length, 1, JSON.stringify(lines));
    assert.equal(await failures('resources'), resourcesBefore + 10);

    const text = JSON.stringify(lines);
    assert.ok(!text.includes('"stack"'), text);
    assert.ok(!text.includes('unhandled error'), text);
  } finally {
    await close();
    await real.close();
    disk.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
