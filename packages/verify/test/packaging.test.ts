/**
 * @herald/verify outside the repository: `npm pack` (its prepack builds JavaScript and declarations
 * into dist/), the tarball unpacked into a fresh node_modules, then imported by the Node that runs
 * the tests and type-checked by a consumer's tsc. The sources' exports (src/*.ts) cannot be used
 * there: Node refuses type stripping under node_modules. No registry, no network.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  asOlderNode,
  installPacked,
  olderNodes,
  ROOT,
  typecheckConsumer,
} from '../../../test/support/packed-package.ts';

test('npm pack gives JavaScript and declarations that a fresh project imports and type-checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-verify-pack-'));
  try {
    const project = installPacked(dir, 'verify');
    writeFileSync(
      join(project, 'check.mjs'),
      `import { sign, verifyWebhook } from '@herald/verify';
import { webhookMiddleware } from '@herald/verify/express';
import { webhookVerification } from '@herald/verify/fastify';
import { verifyFetchRequest, verificationErrorResponse } from '@herald/verify/fetch';
import { verifyNodeRequest } from '@herald/verify/node';
const secret = 'whsec_' + Buffer.alloc(24, 1).toString('base64');
const req = sign({ scheme: 'standard', secret, id: 'evt_1', timestamp: Math.floor(Date.now() / 1000), url: 'http://127.0.0.1/', content: { type: 't', data: 1 } });
const ok = verifyWebhook({ scheme: 'standard', secret, payload: req.body, headers: req.headers });
const fetched = await verifyFetchRequest(new Request(req.url, req), { scheme: 'standard', secret });
const refused = await verifyFetchRequest(new Request(req.url, { ...req, body: '{}' }), { scheme: 'standard', secret }).catch(verificationErrorResponse);
console.log(ok.id, fetched.id, refused.status, typeof webhookMiddleware, typeof webhookVerification, typeof verifyNodeRequest);
`,
    );
    const expected = 'evt_1 evt_1 401 function function function';
    const run = spawnSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), expected);

    // Customers run Node 20 and 22: `engines` admits them, and every entry point runs as on the
    // first release of each of those lines (built-ins added since removed).
    const packed = JSON.parse(
      readFileSync(join(project, 'node_modules/@herald/verify/package.json'), 'utf8'),
    ) as {
      engines: { node: string };
    };
    assert.deepEqual(olderNodes(packed.engines.node), ['20.0.0', '21.0.0', '22.0.0', '23.0.0']);
    for (const version of olderNodes(packed.engines.node)) {
      const older = asOlderNode(version, ['check.mjs']);
      const runOlder = spawnSync(process.execPath, older.args, {
        cwd: project,
        env: older.env,
        encoding: 'utf8',
      });
      assert.equal(runOlder.status, 0, `as Node ${version}: ${runOlder.stderr}`);
      assert.equal(runOlder.stdout.trim(), expected, `as Node ${version}`);
    }

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

/**
 * The README's TypeScript examples, the code a newcomer copies, as they would compile it: the
 * packed package in a project with Express and Fastify and their own types, strict. Only what the
 * examples leave out is added: imports of node:http, express and fastify, the request, its raw body,
 * a secret and a handler, each framework's `app`, and the adapters' `export default` made a
 * constant (one module holds every example, each in a block of its own); the express.json()
 * recipe in a comment of the Express example is mounted as the parser of a route of its own.
 */
test("the README's TypeScript examples type-check against Express's and Fastify's own types", () => {
  const readme = readFileSync(join(ROOT, 'packages/verify/README.md'), 'utf8');
  const blocks = [...readme.matchAll(/\n## ([^\n]+)\n(?:(?!\n## )[\s\S])*?```ts\n([\s\S]*?)```/g)].map(
    ([, heading, code]) => ({ heading, code: code as string }),
  );
  assert.deepEqual(
    blocks.map((b) => b.heading),
    ['Verify', 'Adapters', 'De-duplication', 'Sign (tests, tools)'],
    'the README sections with TypeScript examples',
  );
  const lines = blocks.flatMap((b) => b.code.split('\n'));
  const imports = lines.filter((line) => line.startsWith('import '));
  const body = (code: string) =>
    code
      .split('\n')
      .filter((line) => !line.startsWith('import '))
      .join('\n');
  const [verifyExample, adapters, dedupe, signExample] = blocks.map((b) => body(b.code)) as [
    string,
    string,
    string,
    string,
  ];
  const sections = adapters
    .replace('export default', 'export const fetchHandler =')
    .split(/\n(?=\/\/ (?:Express|Fastify|Fetch API))/);
  assert.equal(sections.length, 4, 'node:http, Express, Fastify and Fetch sections');
  const [node, expressApp, fastifyApp, fetchApp] = sections as [string, string, string, string];
  // The Express example's comment gives a recipe for express.json() that keeps the raw bytes.
  const rawBodyRecipe = /express\.json\(\{ verify: [^\n]*\}\)/.exec(expressApp)?.[0];
  assert.ok(rawBodyRecipe, "the Express example's express.json() recipe");
  const dir = mkdtempSync(join(tmpdir(), 'herald-verify-readme-'));
  try {
    const project = installPacked(dir, 'verify', [
      'express',
      'fastify',
      '@types/express',
      '@types/express-serve-static-core',
    ]);
    const source = `import { createServer, type IncomingMessage } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
${imports.join('\n')}
declare const req: IncomingMessage;
declare const rawBody: string;
declare const secret: string;
declare function handle(payload: unknown): void;
declare const now: number;
declare const url: string;
declare const content: unknown;
{
${verifyExample}
}
{
${signExample}
}
${node}
{
  const app = express();
${expressApp}
}
{
  const app = express();
  app.post('/webhooks', ${rawBodyRecipe}, webhookMiddleware({ scheme: 'standard', secret }), (req, res) => {
    handle(req.webhook.payload);
    res.sendStatus(204);
  });
}
{
  const app = Fastify();
${fastifyApp}
}
${fetchApp}
createServer(async (req, res) => {
  const { webhook } = { webhook: await verifyNodeRequest(req, { scheme: 'standard', secret }) };
${dedupe}
  res.end();
});
`;
    typecheckConsumer(project, source);
    // A consumer with exactOptionalPropertyTypes: the Verify example's \`secret: process.env.HERALD_SECRET\`
    // (string | undefined), and every optional setting given as a value that may be undefined.
    typecheckConsumer(
      project,
      `${source}
declare const maybe: string | undefined;
declare const maybeNumber: number | undefined;
{
  const settings = {
    scheme: 'standard',
    secret: maybe,
    secrets: undefined,
    options: { signatureHeader: maybe, timestampHeader: maybe, encoding: undefined, key: maybe },
    toleranceSeconds: maybeNumber,
    now: maybeNumber,
    hash: undefined,
  } as const;
  verify({ ...settings, payload: rawBody, headers: {}, url: maybe, method: maybe });
  webhookMiddleware({ ...settings, url: maybe, maxBodyBytes: maybeNumber, deduplicate: undefined });
  webhookVerification({ ...settings, url: maybe, maxBodyBytes: maybeNumber, deduplicate: undefined });
  withWebhookVerification({ ...settings, url: maybe, maxBodyBytes: maybeNumber }, () => new Response());
  void verifyNodeRequest(req, { ...settings, url: maybe, maxBodyBytes: maybeNumber });
  createDeduplicator({ store: undefined, ttlSeconds: maybeNumber });
  sign({ ...settings, id: 'msg_1', timestamp: now, url, content, method: undefined, body: maybe });
}
`,
      { exactOptionalPropertyTypes: true },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
