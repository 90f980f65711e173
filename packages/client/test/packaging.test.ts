/**
 * @herald/client outside the repository: `npm pack` (its prepack builds JavaScript and declarations
 * into dist/), the tarball unpacked into a fresh node_modules beside its one dependency (undici,
 * linked from this repository's node_modules: no registry, no network), then imported by the Node
 * that runs the tests and type-checked by a consumer's tsc. The sources' exports (src/*.ts) cannot
 * be used there: Node refuses type stripping under node_modules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  asOlderNode,
  installPacked,
  olderNodes,
  typecheckConsumer,
} from '../../../test/support/packed-package.ts';

test('npm pack gives JavaScript and declarations that a fresh project imports, calls and type-checks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-client-pack-'));
  // A stand-in Herald on loopback for the one call the installed client makes.
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [{ id: 'prj_1', seen: `${req.method} ${req.url}` }], nextCursor: null }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const project = installPacked(dir, 'client', ['undici']);
    writeFileSync(
      join(project, 'check.mjs'),
      `import { HeraldClient, HeraldApiError } from '@herald/client';
const client = new HeraldClient({ url: process.argv[2], token: 't' });
const page = await client.listProjects({ limit: 1, cursor: undefined });
console.log(page.data[0].seen, typeof HeraldApiError);
await client.close();
`,
    );
    // Asynchronously: the stand-in server runs in this process.
    const run = await promisify(execFile)(process.execPath, ['check.mjs', url], { cwd: project });
    assert.equal(run.stdout.trim(), 'GET /api/v1/projects?limit=1 function');

    // Customers run Node 20 and 22: `engines` admits what undici 7, its dependency, runs on, and
    // the client runs on the oldest release of each of those lines (built-ins added since removed).
    const manifest = (name: string) =>
      JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')) as {
        engines: { node: string };
      };
    const engines = manifest('@herald/client').engines.node;
    assert.equal(engines, manifest('undici').engines.node, "engines.node: undici's");
    assert.deepEqual(olderNodes(engines), ['20.18.1', '21.0.0', '22.0.0', '23.0.0']);
    for (const version of olderNodes(engines)) {
      const older = asOlderNode(version, ['check.mjs', url]);
      const runOlder = await promisify(execFile)(process.execPath, older.args, {
        cwd: project,
        env: older.env,
      }).catch((error: { stderr: string }) => ({ stdout: `Node ${version}: ${error.stderr}` }));
      assert.equal(runOlder.stdout.trim(), 'GET /api/v1/projects?limit=1 function', `as Node ${version}`);
    }

    typecheckConsumer(
      project,
      `import { HeraldClient, type DeliveryState } from '@herald/client';
interface Purchase { playerId: number }
export async function send(client: HeraldClient, p: Purchase): Promise<DeliveryState> {
  await client.sendEvent('game', { type: 'player.purchase', payload: p });
  // @ts-expect-error: declarations are there, so a wrong type is caught
  const wrong: number = (await client.getProject('game')).name;
  void wrong;
  return client.retryDelivery('game', 'dlv_1');
}
`,
    );
    // A consumer with exactOptionalPropertyTypes, every optional field given as a value that may be
    // undefined (\`process.env.X\`, an optional argument passed on): each is taken, as absent.
    typecheckConsumer(
      project,
      `import { HeraldClient, type EventInput } from '@herald/client';
declare const maybe: string | undefined;
declare const maybeNumber: number | undefined;
declare const maybeFlag: boolean | undefined;
const client = new HeraldClient({
  url: 'http://127.0.0.1:8080',
  token: 't',
  connections: maybeNumber,
  timeoutMs: maybeNumber,
  batchSize: maybeNumber,
  maxBodyBytes: maybeNumber,
  retries: maybeNumber,
  autoIdempotencyKeys: maybeFlag,
  parseJson: undefined,
});
const call = { signal: undefined };
const event: EventInput = {
  type: 'a',
  payload: {},
  idempotencyKey: maybe,
  test: maybeFlag,
  callbackUrl: maybe,
  callbackEnvelope: undefined,
};
export async function all(): Promise<void> {
  await client.sendEvent('p', event, call);
  await client.listProjects({ limit: maybeNumber, cursor: maybe }, call);
  await client.createProject({ name: 'p', uid: maybe, retrySchedule: undefined, enforceCatalog: maybeFlag, backlogLimit: maybeNumber });
  await client.createEndpoint('p', {
    url: 'https://example.com',
    name: maybe,
    description: maybe,
    eventTypes: undefined,
    method: undefined,
    headers: undefined,
    active: maybeFlag,
    dev: maybeFlag,
    timeoutMs: maybeNumber,
    envelope: undefined,
    signature: { scheme: 'standard', signatureHeader: maybe, timestampHeader: maybe, encoding: undefined, key: maybe },
    secret: maybe,
    rateLimit: { perSecond: 1, burst: maybeNumber },
    retrySchedule: undefined,
  });
  await client.listEvents('p', { type: maybe, since: maybe, until: maybeNumber, idempotencyKey: maybe });
  await client.createApiKey('p', 'k', { scope: undefined });
  await client.createPortalLink('p', { expiresIn: maybeNumber });
  await client.rotateEndpointSecret('p', 'e', { graceSeconds: maybeNumber, secret: maybe });
  await client.recoverEndpoint('p', 'e', { since: 0, until: maybe });
  await client.replayEndpoint('p', 'e', { since: 0, until: maybe });
  await client.endpointStats('p', 'e', { since: maybe, until: maybe, bucket: undefined });
  await client.listEndpointAttempts('p', 'e', { status: undefined, eventType: maybe, since: maybe, until: maybe });
  await client.listOperationalEvents('p', { type: undefined, endpoint: maybe, cursor: maybe });
  await client.listEventDeliveries('p', 'evt_1', { status: undefined, limit: maybeNumber });
  await client.listEndpointDeliveries('p', 'e', { status: undefined, cursor: maybe });
  await client.putEventType('a', { description: maybe, schema: undefined, deprecated: maybeFlag });
}
`,
      { exactOptionalPropertyTypes: true },
    );
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
