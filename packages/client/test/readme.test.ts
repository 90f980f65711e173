/**
 * The example at the top of packages/client/README.md, as a reader copies it: type-checked by tsc
 * (strict) and run by Node against a real `herald serve` on loopback (its URL in place of
 * 127.0.0.1:8080, its admin token as HERALD_TOKEN, a project `my-game`).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startHerald } from '../../../test/e2e/harness.ts';
import { HeraldClient } from '../src/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const ADMIN = 'readme-admin-token-0123456789abcdef';

test("the README's example compiles and runs against a real Herald", async () => {
  const readme = readFileSync(join(ROOT, 'packages/client/README.md'), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.ok(example.includes("from '@herald/client'"), 'the first ts block imports the client');
  const herald = await startHerald({ args: ['--role', 'api'], env: { HERALD_ADMIN_TOKEN: ADMIN } });
  const dir = mkdtempSync(join(tmpdir(), 'herald-client-readme-'));
  try {
    assert.ok(example.includes("'http://127.0.0.1:8080'"));
    const source = example
      .replace("'@herald/client'", JSON.stringify(join(ROOT, 'packages/client/src/index.ts')))
      .replace("'http://127.0.0.1:8080'", JSON.stringify(herald.url));
    writeFileSync(join(dir, 'example.ts'), source);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2024',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['example.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

    const admin = new HeraldClient({ url: herald.url, token: ADMIN });
    await admin.createProject({ name: 'My game', uid: 'my-game' });
    await admin.createEndpoint('my-game', { url: 'https://example.test/hook' });
    // Asynchronously: the Herald it calls answers from another process, but keep this one free.
    const run = await promisify(execFile)(process.execPath, [join(dir, 'example.ts')], {
      env: { ...process.env, HERALD_TOKEN: ADMIN },
    });
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^evt_\S+ \[ 'pending' \]$/, 'the event and its one delivery');
    assert.equal(lines[1], '1', 'the event read again, with a signal of its own');
    assert.match(lines[2] ?? '', /^ep_\S+ https:\/\/example\.test\/hook$/, 'every endpoint');
    assert.match(lines[3] ?? '', /^400 HERALD_ERR_VALIDATION \{ field: 'body\.url' \}$/, 'the refusal');
    const events = await admin.listEvents('my-game');
    assert.equal(events.data.length, 3, 'one event and a batch of two');
    await admin.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await herald.dispose();
  }
});
