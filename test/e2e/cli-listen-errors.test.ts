/**
 * `herald listen` words the API's refusals as the other API commands do: the flag the user typed,
 * not the API's field (`--endpoint`, not `params.endpoint`). An empty `--endpoint` (a shell
 * variable that was never set) is refused, named, before any request, where it used to be taken
 * for no endpoint at all and forwarded with a new local secret instead of the endpoint's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { sendVerificationError, verifyNodeRequest } from '../../packages/verify/src/adapters/node.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const ADMIN = 'cli-listen-errors-token-0123456789';

/** Runs `herald ARGS`; a command still running after `timeoutMs` is killed (code null). */
function herald(args: string[], timeoutMs = 15_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(NODE, [BIN, ...args], { env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

let server: HeraldProcess;
before(async () => {
  server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
});
after(async () => {
  await server?.dispose();
});

test('listen refuses an empty --endpoint naming it, instead of params.endpoint or forwarding anyway', async () => {
  const project = await api<{ id: string }>(server.url, ADMIN, 'POST', '/api/v1/projects', { name: 'l' });
  const conn = ['--url', server.url, '--token', ADMIN, '--project', project.body.id];
  const empty = await herald([
    'listen',
    ...conn,
    '--forward-to',
    'http://127.0.0.1:9/hook',
    '--endpoint',
    '',
  ]);
  assert.equal(empty.code, 1, `${empty.stdout}${empty.stderr}`);
  assert.equal(empty.stderr, 'herald: --endpoint: must not be empty\n');
  assert.doesNotMatch(empty.stdout, /forwarding/);

  // Refusals that name no field stay as the API words them.
  const unknown = await herald([
    'listen',
    ...conn,
    '--forward-to',
    'http://127.0.0.1:9/hook',
    '--endpoint',
    'ep_nope',
  ]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'herald: 404 HERALD_ERR_NOT_FOUND: endpoint not found\n');
});

test('listen ends with the refusal when its project is deleted, instead of polling a 404 forever', async () => {
  const project = await api<{ id: string }>(server.url, ADMIN, 'POST', '/api/v1/projects', { name: 'gone' });
  const args = ['--url', server.url, '--token', ADMIN, '--project', project.body.id];
  const child = spawn(
    NODE,
    [BIN, 'listen', ...args, '--forward-to', 'http://127.0.0.1:9/hook', '--interval', '100'],
    { env: { PATH: process.env.PATH ?? '' } },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  // Deleted only once listen has started and polls (or has already ended: the asserts say why).
  await new Promise<void>((started) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      if (stdout.includes('forwarding new events')) started();
    });
    child.on('exit', () => started());
  });
  assert.match(stdout, /forwarding new events/, stderr);
  assert.equal((await api(server.url, ADMIN, 'DELETE', `/api/v1/projects/${project.body.id}`)).status, 204);
  const code = await exited;
  clearTimeout(killer);
  assert.equal(code, 1, `${stdout}${stderr}`);
  assert.match(stderr, /^herald: 404 HERALD_ERR_NOT_FOUND: project not found/);
  assert.doesNotMatch(stdout, /trying again/);
});

test("--url at the receiver (its port for Herald's): says the answer is not Herald's API, not the receiver's refusal alone", async () => {
  // A receiver as packages/verify/README.md builds one: every request verified, a refusal answered
  // in the SDK's `{"error": {"code", "message"}}`, Herald's shape with a HERALD_VERIFY_* code. With
  // --url and --forward-to swapped (two localhost ports), listen printed only
  // `herald: 400 HERALD_VERIFY_MISSING_HEADER: Missing header webhook-id`.
  const receiver = createServer(async (req, res) => {
    try {
      await verifyNodeRequest(req, { scheme: 'standard', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
      res.writeHead(204).end();
    } catch (error) {
      sendVerificationError(res, error);
    }
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    const run = await herald([
      'listen',
      '--url',
      url,
      '--token',
      ADMIN,
      '--project',
      'p',
      '--forward-to',
      `${server.url}/hook`,
    ]);
    assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
    assert.equal(
      run.stderr,
      `herald: 400 HERALD_VERIFY_MISSING_HEADER: Missing header webhook-id (from ${url}, an answer not in Herald's error format: is --url a Herald server?)\n`,
    );
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
});

test("a 401 at listen's start says which token was sent, as the other API commands' 401s do", async () => {
  // print.ts tokenSent: listen's own error path gave the bare 401, with nothing to say that the
  // token refused was --token's (or a HERALD_TOKEN shadowing HERALD_ADMIN_TOKEN, or a saved one).
  const project = await api<{ id: string }>(server.url, ADMIN, 'POST', '/api/v1/projects', { name: 'u' });
  const run = await herald([
    'listen',
    ...['--url', server.url, '--token', 'hk_revoked', '--project', project.body.id],
    ...['--forward-to', 'http://127.0.0.1:9/hook'],
  ]);
  assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
  assert.match(run.stderr, /^herald: 401 [^\n]*: the token sent was --token's\n$/);
  assert.doesNotMatch(run.stderr, /hk_revoked/, 'the token itself is never printed');
  assert.doesNotMatch(run.stdout, /forwarding/);
});
