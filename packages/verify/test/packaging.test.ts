/**
 * @herald/verify outside the repository: `npm pack` (its prepack builds JavaScript and declarations
 * into dist/), the tarball unpacked into a fresh node_modules, then imported by the Node that runs
 * the tests and type-checked by a consumer's tsc. The sources' exports (src/*.ts) cannot be used
 * there: Node refuses type stripping under node_modules. No registry, no network.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installPacked, typecheckConsumer } from '../../../test/support/packed-package.ts';

test('npm pack gives JavaScript and declarations that a fresh project imports and type-checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-verify-pack-'));
  try {
    const project = installPacked(dir, 'verify');
    writeFileSync(
      join(project, 'check.mjs'),
      `import { sign, verifyWebhook } from '@herald/verify';
import { webhookMiddleware } from '@herald/verify/express';
const secret = 'whsec_' + Buffer.alloc(24, 1).toString('base64');
const req = sign({ scheme: 'standard', secret, id: 'evt_1', timestamp: Math.floor(Date.now() / 1000), url: 'http://127.0.0.1/', content: { type: 't', data: 1 } });
const ok = verifyWebhook({ scheme: 'standard', secret, payload: req.body, headers: req.headers });
console.log(ok.id, typeof webhookMiddleware);
`,
    );
    const run = spawnSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'evt_1 function');

    // A consumer's TypeScript finds the declarations through the "types" condition.
    typecheckConsumer(
      project,
      `import { verifyWebhook, type VerifiedWebhook } from '@herald/verify';
import type { ExpressRequestLike } from '@herald/verify/express';
const hook: VerifiedWebhook<{ n: number }> = verifyWebhook<{ n: number }>({ scheme: 'standard', secret: 's', payload: '{}', headers: {} });
const n: number = hook.payload.n;
// @ts-expect-error: declarations are there, so a wrong type is caught
const wrong: string = hook.payload.n;
export const used: [number, string, ExpressRequestLike | null] = [n, wrong, null];
`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
