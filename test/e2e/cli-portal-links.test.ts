/**
 * `herald portal-links create|revoke` run in this process (run-herald-in-process.ts) against a real `herald serve`: the
 * link goes to stdout alone (a credential, never logged), its expiry to stderr; a revocation ends
 * the links made before it; a project key reaches its own project only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'cli-portal-links-admin-token-0123456789';
const LINK = /^(http:\/\/127\.0\.0\.1:\d+\/ui\/portal#token=(hpt_[A-Za-z0-9_.-]+))\n$/;

describe('herald portal-links', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    server = await startHerald({ args: ['--role', 'api'], env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  /** GET /api/v1/projects/:project with `token`: the status it answers. */
  const statusWith = async (token: string, project: string) => {
    const response = await fetch(`${server.url}/api/v1/projects/${project}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    return response.status;
  };

  test('create prints the link alone on stdout and its expiry on stderr; revoke ends it', async () => {
    const project = await client.createProject({ name: 'cli-portal', uid: 'cli-portal' });
    const links = (...args: string[]) =>
      runHeraldInProcess(['portal-links', ...args, '--url', server.url, '--token', ADMIN]);

    const before = Date.now();
    const created = await links('create', 'cli-portal');
    assert.equal(created.code, 0, created.stderr);
    const link = LINK.exec(created.stdout);
    assert.ok(link, created.stdout);
    const token = link[2]!;
    const expiry =
      /^herald: the link above works until (\S+Z); `herald portal-links revoke cli-portal` ends it \(and every other link of the project\) before then\n$/.exec(
        created.stderr,
      );
    assert.ok(expiry, created.stderr);
    // The default: an hour, in whole seconds rounded up.
    const lifetime = Date.parse(expiry[1]!) - before;
    assert.ok(lifetime > 3_599_000 && lifetime <= 3_602_000, String(lifetime));
    assert.equal(await statusWith(token, project.id), 200);

    const later = await links('create', project.id, '--expires-in', '90m');
    assert.equal(later.code, 0, later.stderr);
    const laterExpiry = /until (\S+Z);/.exec(later.stderr);
    const laterLifetime = Date.parse(laterExpiry![1]!) - Date.now();
    assert.ok(laterLifetime > 5_390_000 && laterLifetime <= 5_401_000, String(laterLifetime));

    const json = await links('create', project.id, '--expires-in', '120', '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stderr, '');
    const answer = JSON.parse(json.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(answer).sort(), ['expiresAt', 'projectId', 'token', 'url']);
    assert.equal(answer.projectId, project.id);
    assert.equal(answer.url, `${server.url}/ui/portal#token=${answer.token}`);
    const jsonLifetime = Date.parse(answer.expiresAt!) - Date.now();
    assert.ok(jsonLifetime > 110_000 && jsonLifetime <= 121_000, String(jsonLifetime));

    const revoked = await links('revoke', 'cli-portal');
    assert.deepEqual(
      [revoked.code, revoked.stdout, revoked.stderr],
      [
        0,
        '',
        'herald: every portal link of cli-portal issued until now is revoked: each is refused (401) from now on; links created afterwards work\n',
      ],
    );
    assert.equal(await statusWith(token, project.id), 401);
    assert.equal(await statusWith(answer.token!, project.id), 401);
    const fresh = LINK.exec((await links('create', 'cli-portal')).stdout);
    assert.equal(await statusWith(fresh![2]!, project.id), 200, 'a link made after the revocation works');

    // The project as --project too, as the other commands take it (it was "unknown option").
    const byFlag = await links('create', '--project', 'cli-portal', '--expires-in', '60');
    assert.equal(byFlag.code, 0, byFlag.stderr);
    const flagged = LINK.exec(byFlag.stdout);
    assert.equal(await statusWith(flagged![2]!, project.id), 200);
    const revokedByFlag = await links('revoke', '--project', 'cli-portal');
    assert.equal(revokedByFlag.code, 0, revokedByFlag.stderr);
    assert.equal(await statusWith(flagged![2]!, project.id), 401);
    for (const command of ['create', 'revoke']) {
      const none = await links(command);
      assert.equal(none.code, 1);
      assert.match(
        none.stderr,
        /^error: missing the project: give it as --project <project> \(or as the argument\)\n/,
      );
      const help = await runHeraldInProcess(['portal-links', command, '--help']);
      assert.match(
        help.stdout,
        new RegExp(`^Usage: herald portal-links ${command} \\[options\\] \\[project\\]$`, 'm'),
      );
      assert.match(help.stdout, /^ +--project <project> +project id or uid \(or as the argument\)/m);
    }

    // A credential: in no log line of the server.
    for (const t of [token, answer.token!, fresh![2]!]) assert.ok(!server.output().includes(t));
  });

  test("a project key reaches its own project's links only; a portal token may not make or revoke links", async () => {
    const own = await client.createProject({ name: 'cli-portal-own' });
    const other = await client.createProject({ name: 'cli-portal-other' });
    const { key } = await client.createApiKey(own.id, 'cs');
    const withKey = (token: string, ...args: string[]) =>
      runHeraldInProcess(['portal-links', ...args, '--url', server.url], { env: { HERALD_TOKEN: token } });

    const mine = await withKey(key, 'create', own.id);
    assert.equal(mine.code, 0, mine.stderr);
    const portalToken = LINK.exec(mine.stdout)![2]!;
    assert.equal(await statusWith(portalToken, own.id), 200);

    for (const args of [
      ['create', other.id],
      ['revoke', other.id],
    ]) {
      const refused = await withKey(key, ...args);
      assert.deepEqual(
        [refused.code, refused.stdout, refused.stderr],
        [1, '', 'herald: 404 HERALD_ERR_NOT_FOUND: project not found\n'],
        args.join(' '),
      );
    }
    for (const [action, words] of [
      ['create', 'create'],
      ['revoke', 'revoke'],
    ] as const) {
      const refused = await withKey(portalToken, action, own.id);
      assert.deepEqual(
        [refused.code, refused.stdout, refused.stderr],
        [1, '', `herald: 403 HERALD_ERR_FORBIDDEN: a portal link cannot ${words} portal links\n`],
      );
    }
    const revoked = await withKey(key, 'revoke', own.id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(await statusWith(portalToken, own.id), 401);
  });

  test('a bad --expires-in is refused naming it (exit code 1), the longest the API takes is taken', async () => {
    const project = await client.createProject({ name: 'cli-portal-refused' });
    for (const [value, reason] of [
      ['0', '--expires-in: must be at least 1 second, got 0'],
      ['8d', '--expires-in: must be at most 604800 seconds (7 days), got 8d (691200 seconds)'],
      ['604801', '--expires-in: must be at most 604800 seconds (7 days), got 604801'],
      [
        '1.5h',
        '--expires-in: must be a whole number of seconds (3600) or of minutes, hours or days (90m, 12h, 7d), got 1.5h',
      ],
      [
        '-5',
        '--expires-in: must be a whole number of seconds (3600) or of minutes, hours or days (90m, 12h, 7d), got -5',
      ],
    ]) {
      const refused = await runHeraldInProcess([
        'portal-links',
        'create',
        project.id,
        `--expires-in=${value}`,
        '--url',
        server.url,
        '--token',
        ADMIN,
      ]);
      assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '', `herald: ${reason}\n`], value);
    }
    // The longest the API takes is taken.
    const week = await runHeraldInProcess([
      'portal-links',
      'create',
      project.id,
      '--expires-in',
      '7d',
      '--url',
      server.url,
      '--token',
      ADMIN,
    ]);
    assert.equal(week.code, 0, week.stderr);
    const empty = await runHeraldInProcess([
      'portal-links',
      'revoke',
      '',
      '--url',
      server.url,
      '--token',
      ADMIN,
    ]);
    assert.deepEqual(
      [empty.code, empty.stdout, empty.stderr],
      [1, '', 'herald: <project>: must not be empty\n'],
    );
    const missing = await runHeraldInProcess([
      'portal-links',
      'create',
      'no-such-project',
      '--url',
      server.url,
      '--token',
      ADMIN,
    ]);
    assert.deepEqual(
      [missing.code, missing.stdout, missing.stderr],
      [1, '', 'herald: 404 HERALD_ERR_NOT_FOUND: project not found\n'],
    );
  });
});
