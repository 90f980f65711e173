/**
 * The commands that print a credential once (`endpoints create`, `endpoints rotate-secret`,
 * `projects api-key`, `portal-links create`), as separate processes against a real `herald serve`,
 * with a stdout that cannot be written (/dev/full, a reader gone): their work is done, so they say
 * on stderr what they did, without the credential, and the command that gets a fresh one, exit
 * code 3, so a script does not run the create again (a second endpoint receives every event twice).
 * And when the answer is lost after Herald took the request (a connection cut on the way back,
 * through a loopback proxy): they say it may have been made, and how to find it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { type HeraldProcess, runHerald, startHerald } from './harness.ts';

const ADMIN = 'cli-credential-output-admin-token-0123456789';
const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const FULL = 'herald: cannot write the output (stdout): ENOSPC: no space left on device, write: ';

/** `herald ARGS` with /dev/full as its stdout. */
async function intoFullDisk(args: string[]) {
  const full = openSync('/dev/full', 'w');
  try {
    return await runHerald(args, { stdoutFd: full });
  } finally {
    closeSync(full);
  }
}

/** `herald ARGS` whose stdout is a pipe closed before it writes (a reader gone: EPIPE). */
function intoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(NODE, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code) => done({ code, stderr }));
  });
}

/** Splits a shell command line of the kind the CLI suggests (words, and '…' quoted ones). */
const words = (line: string): string[] =>
  [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replaceAll("'\\''", "'"));

describe('commands that print a credential, when stdout cannot take it', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let conn: string[];
  before(async () => {
    server = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
    });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    conn = ['--url', server.url, '--token', ADMIN];
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  /** The command the last line of `stderr` suggests (after its `: `), run with `conn`. */
  const suggested = (stderr: string, marker: string) => {
    const at = stderr.lastIndexOf(marker);
    assert.ok(at >= 0, `${marker} in ${stderr}`);
    const command = words(
      stderr
        .slice(at + marker.length)
        .split('\n')[0]!
        .replace(/[;,].*$/, ''),
    );
    assert.equal(command[0], 'herald', stderr);
    return runHerald([...command.slice(1), ...conn]);
  };

  test('endpoints create: the endpoint id and the rotate-secret that gives a secret, exit code 3; the secret nowhere', async () => {
    const project = await client.createProject({ name: 'cli-credential-create' });
    for (const [how, run] of [
      ['/dev/full', intoFullDisk],
      ['a reader gone', intoClosedPipe],
    ] as const) {
      for (const json of [false, true]) {
        const before = (await client.listEndpoints(project.id)).data.map((e) => e.id);
        const created = await run([
          'endpoints',
          'create',
          'http://127.0.0.1:9/hook',
          '--project',
          project.id,
          ...(json ? ['--json'] : []),
          ...conn,
        ]);
        const now = (await client.listEndpoints(project.id)).data.filter((e) => !before.includes(e.id));
        assert.equal(now.length, 1, `${how}: one endpoint made`);
        const endpoint = now[0]!;
        const { secret } = await client.getEndpointSecret(project.id, endpoint.id);
        // Before, exit code 1 (or 0 for a reader gone) and nothing of what was done: a script ran
        // the create again, and the second endpoint received every event twice.
        assert.equal(created.code, 3, `${how}: ${created.stderr}`);
        assert.ok(!created.stderr.includes(secret), `${how}: the secret is not on stderr`);
        if (how === '/dev/full') assert.ok(created.stderr.startsWith(FULL), created.stderr);
        assert.match(
          created.stderr,
          new RegExp(
            `the endpoint ${endpoint.id} was created, but its signing secret is not printed anywhere`,
          ),
        );
        assert.match(created.stderr, /do not run the create again/);
        const fresh = await suggested(created.stderr, 'for a secret to give its receiver: ');
        assert.equal(fresh.code, 0, fresh.stderr);
        const secrets = await client.getEndpointSecret(project.id, endpoint.id);
        assert.equal(fresh.stdout, `${secrets.secret}\n`);
        assert.deepEqual(
          secrets.secrets.map((s) => s.secret),
          [secrets.secret],
          'the secret that was not printed signs no more',
        );
      }
    }
  });

  test('endpoints rotate-secret: which endpoint was rotated and how to get another, exit code 3; the new secret nowhere', async () => {
    const project = await client.createProject({ name: 'cli-credential-rotate' });
    const endpoint = await client.createEndpoint(project.id, { url: 'http://127.0.0.1:9/hook' });
    const rotated = await intoFullDisk([
      'endpoints',
      'rotate-secret',
      endpoint.id,
      '--project',
      project.id,
      ...conn,
    ]);
    const { secret } = await client.getEndpointSecret(project.id, endpoint.id);
    assert.notEqual(secret, endpoint.secret);
    assert.equal(rotated.code, 3, rotated.stderr);
    assert.ok(!rotated.stderr.includes(secret), rotated.stderr);
    assert.ok(rotated.stderr.startsWith(FULL), rotated.stderr);
    assert.match(
      rotated.stderr,
      new RegExp(
        `the signing secret of ${endpoint.id} was rotated, but the new secret is not printed anywhere`,
      ),
    );
    const again = await suggested(rotated.stderr, 'for another one: ');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${(await client.getEndpointSecret(project.id, endpoint.id)).secret}\n`);

    // With --secret-file the secret is the user's own: nothing is lost, it says the rotation is done.
    const dir = mkdtempSync(join(tmpdir(), 'herald-credential-'));
    try {
      const own = `whsec_${randomBytes(32).toString('base64')}`;
      writeFileSync(join(dir, 'secret'), `${own}\n`);
      const fromFile = await intoFullDisk([
        'endpoints',
        'rotate-secret',
        endpoint.id,
        '--project',
        project.id,
        '--secret-file',
        join(dir, 'secret'),
        ...conn,
      ]);
      assert.equal(fromFile.code, 3, fromFile.stderr);
      assert.equal((await client.getEndpointSecret(project.id, endpoint.id)).secret, own);
      assert.ok(!fromFile.stderr.includes(own), fromFile.stderr);
      assert.match(
        fromFile.stderr,
        new RegExp(
          `^${FULL.replace(/[()]/g, '\\$&')}the signing secret of ${endpoint.id} was rotated to the one from --secret-file \\(not printed again\\): it is done, do not run it again\nherald: standard: `,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('projects api-key: the key id and how to revoke it and make another, exit code 3; the key nowhere', async () => {
    const project = await client.createProject({ name: 'cli-credential-key' });
    const made = await intoFullDisk([
      'projects',
      'api-key',
      project.id,
      '--name',
      "the sender's key",
      '--scope',
      'send',
      ...conn,
    ]);
    const keys = (await client.listApiKeys(project.id)).data;
    assert.equal(keys.length, 1);
    const key = keys[0]!;
    assert.equal(made.code, 3, made.stderr);
    assert.ok(made.stderr.startsWith(FULL), made.stderr);
    assert.doesNotMatch(made.stderr, /hk_/, 'no key, nor its first characters');
    assert.match(
      made.stderr,
      new RegExp(`the API key ${key.id} of ${project.id} was created, but the key is not printed anywhere`),
    );
    const revoked = await suggested(made.stderr, 'revoke it with ');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await client.listApiKeys(project.id)).data.length, 0);
    const another = await suggested(made.stderr, 'and make another with ');
    assert.equal(another.code, 0, another.stderr);
    const remade = (await client.listApiKeys(project.id)).data;
    assert.deepEqual(
      remade.map((k) => [k.name, k.scope]),
      [["the sender's key", 'send']],
    );
    assert.ok(another.stdout.startsWith(remade[0]!.prefix), another.stdout);
  });

  test('portal-links create: the link made, until when, how to get another and end it, exit code 3; the link nowhere', async () => {
    const project = await client.createProject({ name: 'cli-credential-portal' });
    for (const json of [false, true]) {
      const made = await intoFullDisk([
        'portal-links',
        'create',
        project.id,
        '--expires-in',
        '2h',
        ...(json ? ['--json'] : []),
        ...conn,
      ]);
      assert.equal(made.code, 3, made.stderr);
      assert.ok(made.stderr.startsWith(FULL), made.stderr);
      assert.ok(!made.stderr.includes('hpt_'), made.stderr);
      assert.doesNotMatch(made.stderr, /the link above/);
      assert.match(
        made.stderr,
        new RegExp(
          `a portal link of ${project.id} was created \\(it works until \\S+Z\\), but it is not printed anywhere`,
        ),
      );
      const another = await suggested(made.stderr, 'for another one: ');
      assert.equal(another.code, 0, another.stderr);
      assert.match(another.stdout, /#token=hpt_/);
      assert.match(made.stderr, new RegExp(`\`herald portal-links revoke ${project.id}\` ends it`));
    }
  });
});

/**
 * A loopback HTTP proxy to `target` that passes each request on, waits for Herald's whole answer,
 * and then cuts the connection instead of passing it back (a proxy or a network failing after the
 * request was taken), or with `hold` keeps it waiting. `cut` counts the answers kept back.
 */
async function answerCuttingProxy(target: string) {
  /** hold: keep the connection open without an answer instead (Herald slow, as far as the CLI knows). */
  const state = { cut: 0, hold: false };
  const server = createServer((req, res) => {
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        answer.resume();
        answer.on('end', () => {
          state.cut++;
          if (!state.hold) res.socket?.destroy();
        });
      },
    );
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('commands that make a credential, when the answer is lost after Herald took the request', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let proxy: Awaited<ReturnType<typeof answerCuttingProxy>>;
  before(async () => {
    server = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
    });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    proxy = await answerCuttingProxy(server.url);
  });
  after(async () => {
    await proxy?.close();
    await client?.close();
    await server?.dispose();
  });

  test('endpoints create, projects api-key and portal-links create say it may have been made and how to find or end it', async () => {
    const project = await client.createProject({ name: 'cli-credential-lost' });
    const viaProxy = ['--url', proxy.url, '--token', ADMIN];

    const created = await runHerald([
      'endpoints',
      'create',
      'http://127.0.0.1:9/lost',
      '--project',
      project.id,
      ...viaProxy,
    ]);
    assert.equal(proxy.state.cut, 1);
    const endpoints = (await client.listEndpoints(project.id)).data;
    assert.deepEqual(
      endpoints.map((e) => e.url),
      ['http://127.0.0.1:9/lost'],
      'Herald made it',
    );
    assert.equal(created.code, 1, created.stderr);
    // Before, only `no answer from Herald at …: other side closed (…). Is --url a Herald server?`:
    // a script ran the create again, and the second endpoint received every event twice.
    assert.match(
      created.stderr,
      new RegExp(
        `^herald: no answer from Herald at ${proxy.url} .*[.?] The endpoint may have been created: look for http://127\\.0\\.0\\.1:9/lost in \`herald endpoints list --project ${project.id}\` before running the create again \\(a second endpoint would receive every event twice\\)\n$`,
      ),
    );

    const key = await runHerald(['projects', 'api-key', project.id, '--name', 'lost key', ...viaProxy]);
    assert.equal(proxy.state.cut, 2);
    const keys = (await client.listApiKeys(project.id)).data;
    assert.equal(keys.length, 1);
    assert.equal(key.code, 1, key.stderr);
    assert.match(
      key.stderr,
      new RegExp(
        `[.?] The API key may have been created: \`herald projects api-keys ${project.id}\` lists it \\(named "lost key"\\); revoke it with \`herald projects revoke-api-key ${project.id} KEY_ID\` before making another\n$`,
      ),
    );

    const link = await runHerald(['portal-links', 'create', project.id, ...viaProxy]);
    assert.equal(proxy.state.cut, 3);
    assert.equal(link.code, 1, link.stderr);
    assert.match(
      link.stderr,
      new RegExp(
        `[.?] A portal link may have been created: \`herald portal-links revoke ${project.id}\` ends it \\(and every other link of the project issued until now\\)\n$`,
      ),
    );
  });

  test('Ctrl-C or a stop before the answer of endpoints create says the endpoint may have been created (exit code 130 or 143)', async () => {
    const project = await client.createProject({ name: 'cli-credential-stopped' });
    proxy.state.hold = true;
    try {
      for (const [signal, code] of [
        ['SIGINT', 130],
        ['SIGTERM', 143],
      ] as const) {
        const before = proxy.state.cut;
        const child = spawn(
          NODE,
          [
            BIN,
            'endpoints',
            'create',
            `http://127.0.0.1:9/${signal}`,
            '--project',
            project.id,
            '--url',
            proxy.url,
            '--token',
            ADMIN,
          ],
          { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c));
        const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
        while (proxy.state.cut === before) await new Promise((r) => setTimeout(r, 20));
        child.kill(signal);
        // Before, the signal ended it at once, exit code 130 or 143 with nothing said.
        assert.equal(await exited, code, stderr);
        assert.equal(
          stderr,
          `herald: stopped by ${signal} before Herald answered: The endpoint may have been created: look for http://127.0.0.1:9/${signal} in \`herald endpoints list --project ${project.id}\` before running the create again (a second endpoint would receive every event twice)\n`,
        );
      }
      const urls = (await client.listEndpoints(project.id)).data.map((e) => e.url).sort();
      assert.deepEqual(urls, ['http://127.0.0.1:9/SIGINT', 'http://127.0.0.1:9/SIGTERM']);
    } finally {
      proxy.state.hold = false;
    }
  });
});
