/**
 * The API commands of the `herald` CLI (projects, events, endpoints, deliveries, event-types, listen)
 * against a real `herald serve`, run in this process (run-herald-in-process.ts); a stdout that
 * fails, stdin as a pipe and `herald listen` in separate processes. Deliveries go to a loopback
 * `sink`; a second loopback receiver checks what `herald listen` forwards with @herald/verify.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, paginate } from '@herald/client';
import { verifyWebhook } from '@herald/verify';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, type Receiver, runHerald, startHerald, startReceiver } from './harness.ts';

/** JSON.rawJSON (Node 24; not in this project's TypeScript lib): a number written with its digits. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): number }).rawJSON;

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const ADMIN = 'cli-admin-token-0123456789abcdef';

/** In this process (run-herald-in-process.ts): the tests here are about output and exit codes. */
const herald = (args: string[], env: Record<string, string> = {}) => runHeraldInProcess(args, { env });

describe('herald CLI against a running Herald', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let receiver: Receiver;
  let sink: Receiver;
  const children: ChildProcess[] = [];
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    receiver = await startReceiver();
    sink = await startReceiver();
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await client?.close();
    await receiver?.close();
    await sink?.close();
    await server?.dispose();
  });

  test('events send|list|get, deliveries retry, endpoints get|list|rotate-secret|delete, projects create|list|api-key; bad input and a bad token exit 1 with the reason', async () => {
    // An empty list prints nothing on stdout and says so on stderr, exit code 0 (as event-types list).
    const admin = ['--url', server.url, '--token', ADMIN];
    const noProjects = await herald(['projects', 'list', ...admin]);
    assert.deepEqual([noProjects.code, noProjects.stdout], [0, '']);
    assert.match(
      noProjects.stderr,
      /^herald: no projects yet \(add one with `herald projects create NAME`\)\n$/,
    );
    const noProjectsJson = await herald(['projects', 'list', '--json', ...admin]);
    assert.deepEqual(
      [noProjectsJson.code, JSON.parse(noProjectsJson.stdout), noProjectsJson.stderr],
      [0, [], ''],
    );

    const project = await client.createProject({ name: 'cli' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const noEndpoints = await herald(['endpoints', 'list', ...conn]);
    assert.deepEqual([noEndpoints.code, noEndpoints.stdout], [0, '']);
    assert.match(noEndpoints.stderr, new RegExp(`^herald: no endpoints in ${project.id} \\(add one with`));
    const noEvents = await herald(['events', 'list', ...conn]);
    assert.deepEqual(
      [noEvents.code, noEvents.stdout, noEvents.stderr],
      [0, '', `herald: no events in ${project.id}\n`],
    );
    const endpoint = await client.createEndpoint(project.id, { url: `${sink.url}/hook` });
    const noAttempts = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--status', 'failed']);
    assert.deepEqual(
      [noAttempts.code, noAttempts.stdout, noAttempts.stderr],
      [0, '', `herald: no attempts of ${endpoint.id} matching --status\n`],
    );

    const sent = await herald(['events', 'send', 'player.paid', ...conn, '--data', '{"amount":5}', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const event = JSON.parse(sent.stdout) as {
      id: string;
      payload: unknown;
      deliveries: { endpointId: string }[];
    };
    assert.deepEqual(event.payload, { amount: 5 });
    assert.deepEqual(
      event.deliveries.map((d) => d.endpointId),
      [endpoint.id],
    );
    assert.deepEqual((await client.getEvent(project.id, event.id)).payload, { amount: 5 });

    // Numbers a double cannot hold keep their digits: sent from --data, read back as --json.
    const big = await herald([
      'events',
      'send',
      'player.paid',
      ...conn,
      '--data',
      '{"playerId":9007199254740993}',
      '--json',
    ]);
    assert.equal(big.code, 0, big.stderr);
    assert.match(big.stdout, /"playerId": ?9007199254740993/);
    const bigId = (JSON.parse(big.stdout) as { id: string }).id;
    const bigBack = await herald(['events', 'get', bigId, ...conn]);
    assert.match(bigBack.stdout, /"playerId": ?9007199254740993/);

    const events = await herald(['events', 'list', ...conn, '--limit', '5']);
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, new RegExp(`^${event.id} player.paid `, 'm'));
    // --until: events up to a time; an hour ago there were none.
    const older = await herald(['events', 'list', ...conn, '--until', String(Date.now() - 3_600_000)]);
    assert.equal(older.code, 0, older.stderr);
    assert.equal(older.stdout, '');
    assert.equal(older.stderr, `herald: no events in ${project.id} matching --until\n`);
    const upToNow = await herald(['events', 'list', ...conn, '--until', new Date().toISOString()]);
    assert.match(upToNow.stdout, new RegExp(`^${event.id} player.paid `, 'm'));
    // Support starts from what the sender knows: the idempotency key it gave the event.
    const keyed = await herald([
      'events',
      'send',
      'player.paid',
      ...conn,
      '--data',
      '{}',
      '--idempotency-key',
      'order-1234',
    ]);
    assert.equal(keyed.code, 0, keyed.stderr);
    const keyedId = /^(evt_\S+)/.exec(keyed.stdout)![1]!;
    const byKey = await herald(['events', 'list', ...conn, '--idempotency-key', 'order-1234']);
    assert.deepEqual([byKey.code, byKey.stdout.split('\n')[0]!.split(' ')[0]], [0, keyedId], byKey.stderr);
    assert.equal(byKey.stdout.trim().split('\n').length, 1);
    const noKey = await herald(['events', 'list', ...conn, '--idempotency-key', 'order-9']);
    assert.deepEqual(
      [noKey.code, noKey.stdout, noKey.stderr],
      [0, '', `herald: no events in ${project.id} matching --idempotency-key\n`],
    );
    const one = await herald(['events', 'get', event.id, ...conn]);
    assert.equal(one.code, 0, one.stderr);
    assert.ok(Array.isArray((JSON.parse(one.stdout) as { attempts: unknown }).attempts));
    const [delivery] = (await client.getEvent(project.id, event.id)).deliveries;
    const retried = await herald(['deliveries', 'retry', delivery!.id, ...conn]);
    assert.equal(retried.code, 0, retried.stderr);
    const keyOut = await herald([
      'projects',
      'api-key',
      project.id,
      '--name',
      'cli',
      '--url',
      server.url,
      '--token',
      ADMIN,
    ]);
    assert.equal(keyOut.code, 0, keyOut.stderr);
    const scoped = await herald(
      ['endpoints', 'get', endpoint.id, '--url', server.url, '--project', project.id],
      {
        HERALD_TOKEN: keyOut.stdout.trim(),
      },
    );
    assert.equal(scoped.code, 0, scoped.stderr);
    assert.equal((JSON.parse(scoped.stdout) as { id: string }).id, endpoint.id);

    // Two webhooks to one URL told apart by their names (Gamify's "meaningful name for your
    // webhook"): the list ends each line with the name; an unnamed endpoint's line has none.
    const named = await client.createEndpoint(project.id, {
      url: `${sink.url}/hook`,
      name: 'CRM opt-in',
      eventTypes: ['optin.submitted'],
      method: 'GET',
      signature: { scheme: 'none' },
    });
    const listed = await herald(['endpoints', 'list', ...conn], { HERALD_TOKEN: 'ignored-when-flag-given' });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      new RegExp(`^${endpoint.id} POST ${sink.url}/hook \\(all types; active, standard\\)$`, 'm'),
    );
    assert.match(
      listed.stdout,
      new RegExp(`^${named.id} GET ${sink.url}/hook \\(optin\\.submitted; active, none\\) CRM opt-in$`, 'm'),
    );
    await client.deleteEndpoint(project.id, named.id);

    const rotated = await herald(['endpoints', 'rotate-secret', endpoint.id, ...conn, '--grace', '0']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const { secret } = await client.getEndpointSecret(project.id, endpoint.id);
    assert.equal(rotated.stdout.trim(), secret);
    assert.notEqual(secret, endpoint.secret);
    const badGrace = await herald(['endpoints', 'rotate-secret', endpoint.id, ...conn, '--grace', 'soon']);
    assert.equal(badGrace.code, 1);
    assert.match(badGrace.stderr, /--grace/);

    const created = await herald([
      'projects',
      'create',
      'From the CLI',
      '--uid',
      'from-cli',
      '--url',
      server.url,
      '--token',
      ADMIN,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await client.getProject('from-cli')).name, 'From the CLI');
    const projects = await herald(['projects', 'list', '--url', server.url, '--token', ADMIN]);
    assert.match(projects.stdout, /^prj_\S+ from-cli From the CLI$/m);

    const deleted = await herald(['endpoints', 'delete', endpoint.id, ...conn]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assert.rejects(client.getEndpoint(project.id, endpoint.id), /404/);

    // Says why and where, as `event-types import` does: a file's trailing comma, say, or the
    // shell's quotes gone (--data {playerId:42}).
    const badJson = await herald(['events', 'send', 'x', ...conn, '--data', '{playerId:42}']);
    assert.equal(badJson.code, 1);
    assert.equal(
      badJson.stderr,
      "herald: --data: not valid JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)\n",
    );
    const jsonDir = mkdtempSync(join(tmpdir(), 'herald-cli-json-'));
    try {
      const file = join(jsonDir, 'order.json');
      writeFileSync(file, '{"playerId": 42,\n "sku": "gold-pack",\n}\n');
      const badFile = await herald(['events', 'send', 'x', ...conn, '--data', `@${file}`]);
      assert.equal(badFile.code, 1);
      assert.equal(
        badFile.stderr,
        `herald: --data: ${file} is not valid JSON: Expected double-quoted property name in JSON at position 38 (line 3 column 1)\n`,
      );
      // What V8 quotes of the text around an unexpected token is not printed: it may be a secret.
      const quoted = await herald([
        'endpoints',
        'create',
        'https://hooks.example/x',
        ...conn,
        '--settings',
        '{"signature": {"scheme": "github", "secret": "s3cr3t-value"}, "dev": tru}',
      ]);
      assert.equal(quoted.code, 1);
      assert.equal(quoted.stderr, "herald: --settings: not valid JSON: Unexpected token '}'\n");
    } finally {
      rmSync(jsonDir, { recursive: true, force: true });
    }
    const envelopeAlone = await herald(['events', 'send', 'x', ...conn, '--callback-envelope', 'raw']);
    assert.equal(envelopeAlone.code, 1);
    assert.match(envelopeAlone.stderr, /--callback-envelope needs --callback-url/);
    const badEnvelope = await herald(['events', 'send', 'x', ...conn, '--callback-envelope', 'rough']);
    assert.notEqual(badEnvelope.code, 0);
    assert.match(badEnvelope.stderr, /--callback-envelope.*Allowed choices are standard, event-data, raw/);

    const badToken = await herald(['events', 'list', '--url', server.url, '--project', project.id], {
      HERALD_TOKEN: 'wrong-token-wrong-token',
    });
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /401/);
    assert.ok(!badToken.stderr.includes('wrong-token-wrong-token'), 'the token is never printed');
  });

  test('endpoints update|disable|enable|attempts|stats|recover|replay and event-types list|get read and change what the API holds', async () => {
    const project = await client.createProject({ name: 'cli-manage' });
    const endpoint = await client.createEndpoint(project.id, {
      url: `${sink.url}/manage`,
      eventTypes: ['player.paid'],
      retrySchedule: [],
      dev: true,
    });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const attemptsOf = async (n: number) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const page = await client.listEndpointAttempts(project.id, endpoint.id, { limit: 100 });
        if (page.data.length >= n || Date.now() > deadline) return page.data;
        await sleep(20);
      }
    };

    // A live event and a test one (GamePush's "Dev" box: test requests to be told apart in the
    // history): the test event's line says so, as `events list` and the dashboard's History do.
    const paid = await client.sendEvents(project.id, [
      { type: 'player.paid', payload: { n: 1 } },
      { type: 'player.paid', payload: { n: 2 }, test: true },
    ]);
    assert.equal((await attemptsOf(2)).length, 2);
    const history = await herald(['endpoints', 'attempts', endpoint.id, ...conn]);
    assert.equal(history.code, 0, history.stderr);
    const lines = history.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const [i, line] of lines.entries()) {
      // newest first
      assert.match(
        line,
        new RegExp(
          `^att_\\S+ \\S+Z succeeded 200 \\d+ ms #1 player.paid ${i === 0 ? '\\(test\\) ' : ''}${paid[1 - i]!.id}$`,
        ),
      );
    }
    const none = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--status', 'failed']);
    assert.equal(none.stdout, '');
    const badStatus = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--status', 'maybe']);
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /--status: expected succeeded or failed, got maybe/);

    // The API's refusals name the flag that was typed, not the request field.
    for (const [args, reason] of [
      [
        ['events', 'list', ...conn, '--since', 'yesterday'],
        /^herald: 400 HERALD_ERR_VALIDATION: --since: must be /,
      ],
      [
        ['endpoints', 'attempts', endpoint.id, ...conn, '--type', 'x'.repeat(201)],
        /: --type: must be at most 200 characters long/,
      ],
      [['endpoints', 'stats', endpoint.id, ...conn, '--bucket', '2m'], /: --bucket: must be one of /],
      [
        ['endpoints', 'test', endpoint.id, ...conn, '--type', 'x'.repeat(201)],
        /: --type: must be at most 200 characters long/,
      ],
      [
        ['events', 'send', 'order.*', ...conn],
        /^herald: 400 HERALD_ERR_VALIDATION: <type>: "order\.\*" is not an event-type name: names hold no "\*"/,
      ],
      [
        ['endpoints', 'test', endpoint.id, ...conn, '--type', 'order.*'],
        /^herald: 400 HERALD_ERR_VALIDATION: --type: "order\.\*" is not an event-type name: names hold no "\*"/,
      ],
    ] as const) {
      const refused = await herald([...args]);
      assert.equal(refused.code, 1, args.join(' '));
      assert.match(refused.stderr, reason);
      assert.doesNotMatch(refused.stderr, /querystring\.|body\./);
    }

    const stats = await herald(['endpoints', 'stats', endpoint.id, ...conn, '--bucket', '1d', '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    const buckets = JSON.parse(stats.stdout) as { data: { succeeded: number; failed: number }[] };
    assert.deepEqual(
      buckets.data.map((b) => [b.succeeded, b.failed]),
      [[2, 0]],
    );
    const chart = await herald(['endpoints', 'stats', endpoint.id, ...conn, '--bucket', '1d']);
    assert.match(chart.stdout, /^\S+Z +2 ok +0 failed .* █{40}$/m);
    // No attempts: as an empty list, nothing on stdout and the reason on stderr.
    const early = ['--since', '2020-01-01T00:00:00Z', '--until', '2020-01-02T00:00:00Z'];
    const noAttempts = await herald(['endpoints', 'stats', endpoint.id, ...conn, ...early]);
    assert.equal(noAttempts.code, 0, noAttempts.stderr);
    assert.equal(noAttempts.stdout, '');
    assert.equal(
      noAttempts.stderr,
      `herald: no attempts of ${endpoint.id} between 2020-01-01T00:00:00Z and 2020-01-02T00:00:00Z\n`,
    );
    // --until alone: the API reads the 24 hours before it, not a range from an unnamed --since.
    const before2020 = await herald([
      'endpoints',
      'stats',
      endpoint.id,
      ...conn,
      '--until',
      '2020-01-02T00:00:00Z',
    ]);
    assert.equal(
      before2020.stderr,
      `herald: no attempts of ${endpoint.id} in the 24 hours before 2020-01-02T00:00:00Z\n`,
    );

    // Settings: only what is given changes.
    const updated = await herald([
      'endpoints',
      'update',
      endpoint.id,
      ...conn,
      '--all-types',
      '--dev',
      '--name',
      'Game server',
      '--settings',
      '{"headers": {"x-game": "raiders"}}',
    ]);
    assert.equal(updated.code, 0, updated.stderr);
    let now = await client.getEndpoint(project.id, endpoint.id);
    assert.deepEqual(
      [now.eventTypes, now.dev, now.name, now.headers, now.url],
      [[], true, 'Game server', { 'x-game': 'raiders' }, `${sink.url}/manage`],
    );
    const moved = await herald([
      'endpoints',
      'update',
      endpoint.id,
      ...conn,
      '--endpoint-url',
      `${sink.url}/moved`,
      '--no-dev',
    ]);
    assert.equal(moved.code, 0, moved.stderr);
    now = await client.getEndpoint(project.id, endpoint.id);
    assert.deepEqual([now.url, now.dev, now.name], [`${sink.url}/moved`, false, 'Game server']);
    for (const [args, reason] of [
      [[], /nothing to change/],
      [['--types', 'a', '--all-types'], /--types and --all-types/],
      [['--settings', '{"secret": "whsec_x"}'], /rotate-secret/],
      [['--endpoint-url', 'not a url'], /400 HERALD_ERR_VALIDATION: --endpoint-url: must be/],
      [['--settings', '{"method": "DELETE"}'], /400 HERALD_ERR_VALIDATION: --settings \(body\.method\): /],
    ] as const) {
      const refused = await herald(['endpoints', 'update', endpoint.id, ...conn, ...args]);
      assert.equal(refused.code, 1, `${args.join(' ')}: ${refused.stdout}`);
      assert.match(refused.stderr, reason);
    }

    // Disabled: new events are not fanned out to it; enabled: they are again.
    const disabled = await herald(['endpoints', 'disable', endpoint.id, ...conn]);
    assert.match(disabled.stdout, /disabled/);
    assert.equal((await client.getEndpoint(project.id, endpoint.id)).status, 'disabled');
    const skipped = await client.sendEvent(project.id, { type: 'player.joined', payload: {} });
    assert.deepEqual(skipped.deliveries, []);
    const enabled = await herald(['endpoints', 'enable', endpoint.id, ...conn]);
    assert.match(enabled.stdout, /active/);
    const joined = await client.sendEvent(project.id, { type: 'player.joined', payload: {} });
    assert.equal((await attemptsOf(3))[0]!.eventId, joined.id);

    // A failure with no retries left is failed; recover sends it again.
    sink.respondWith(500);
    const failing = await client.sendEvent(project.id, { type: 'player.paid', payload: { n: 3 } });
    const failed = (await attemptsOf(4))[0]!;
    assert.deepEqual([failed.eventId, failed.outcome], [failing.id, 'failed']);
    sink.respondWith(200);
    const since = new Date(Date.now() - 60_000).toISOString();
    const recovered = await herald(['endpoints', 'recover', endpoint.id, ...conn, '--since', since]);
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal(recovered.stdout, `${endpoint.id}: 1 failed delivery due again\n`);
    const again = (await attemptsOf(5))[0]!;
    assert.deepEqual([again.eventId, again.outcome, again.number], [failing.id, 'succeeded', 2]);

    // The event sent while it was disabled went nowhere; a replay gives it to the endpoint, once.
    const replayed = await herald(['endpoints', 'replay', endpoint.id, ...conn, '--since', since]);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(replayed.stdout, `${endpoint.id}: 1 event replayed\n`);
    assert.equal((await attemptsOf(6))[0]!.eventId, skipped.id);

    // No test before this one adds event types: the catalog is empty, and says so.
    assert.deepEqual((await client.listEventTypes()).data, []);
    const empty = await herald(['event-types', 'list', '--url', server.url, '--token', ADMIN]);
    assert.deepEqual([empty.code, empty.stdout], [0, '']);
    assert.match(empty.stderr, /^herald: the event-type catalog is empty/);
    const emptyJson = await herald(['event-types', 'list', '--json', '--url', server.url, '--token', ADMIN]);
    assert.deepEqual([emptyJson.code, JSON.parse(emptyJson.stdout), emptyJson.stderr], [0, [], '']);

    await client.putEventType('player.paid', { description: 'A player paid', example: { amount: 5 } });
    await client.putEventType('player.left', { description: 'A player left', deprecated: true });
    const types = await herald(['event-types', 'list', '--url', server.url, '--token', ADMIN]);
    assert.equal(types.code, 0, types.stderr);
    assert.match(types.stdout, /^player\.paid {2}\[example\] {2}A player paid$/m);
    assert.match(types.stdout, /^player\.left {2}\[deprecated\] {2}A player left$/m);
    const one = await herald(['event-types', 'get', 'player.paid', '--url', server.url, '--token', ADMIN]);
    assert.deepEqual(JSON.parse(one.stdout), await client.getEventType('player.paid'));
    const missing = await herald([
      'event-types',
      'get',
      'player.nope',
      '--url',
      server.url,
      '--token',
      ADMIN,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404/);
  });

  test('events send whose output cannot be written on stdout (a full disk) says the event it stored on stderr, exit code 0: a failure would have it sent, and stored, twice', async () => {
    const project = await client.createProject({ name: 'cli-full-stdout' });
    const send = ['events', 'send', 'a.b', '--data', '{"n":1}', '--url', server.url, '--token', ADMIN];
    for (const json of [false, true]) {
      const full = openSync('/dev/full', 'w');
      let run: Awaited<ReturnType<typeof runHerald>>;
      try {
        run = await runHerald([...send, '--project', project.id, ...(json ? ['--json'] : [])], {
          stdoutFd: full,
        });
      } finally {
        closeSync(full);
      }
      // Before, exit code 1 and only `cannot write the output (stdout)`, the event stored all the same.
      assert.equal(run.code, 0, run.stderr);
      const stored = (await client.listEvents(project.id, { limit: 10 })).data[0]!;
      const [first, ...rest] = run.stderr.split('\n');
      assert.equal(
        first,
        'herald: cannot write the output (stdout): ENOSPC: no space left on device, write: the event sent follows here',
      );
      if (json) assert.equal(JSON.parse(rest.join('\n')).id, stored.id);
      else assert.match(rest[0]!, new RegExp(`^${stored.id} a\\.b `));
    }
    assert.equal((await client.listEvents(project.id, { limit: 10 })).data.length, 2);
  });

  test('events list and endpoints attempts print up to --limit, across pages cut short by their byte budget', async () => {
    const project = await client.createProject({ name: 'cli-large' });
    const endpoint = await client.createEndpoint(project.id, { url: `${sink.url}/large` });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    // Six events of 900,000 bytes: a page stops before the one starting past 4 MiB (the fifth
    // starts at 3.6 MB, the sixth at 4.5 MB), so the first page of --limit 20 holds five.
    const blob = 'x'.repeat(900_000);
    for (let i = 0; i < 6; i++) await client.sendEvent(project.id, { type: 'big', payload: { i, blob } });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const seen = await allAttempts(client, project.id, endpoint.id);
      if (seen >= 6) break;
      assert.ok(Date.now() < deadline, `6 attempts recorded (${seen})`);
      await sleep(50);
    }
    assert.equal((await client.listEvents(project.id, { limit: 20 })).data.length, 5, 'the API page is cut');

    const events = await herald(['events', 'list', ...conn, '--limit', '20']);
    assert.equal(events.code, 0, events.stderr);
    assert.equal(events.stdout.trim().split('\n').length, 6);
    const history = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--limit', '20']);
    assert.equal(history.code, 0, history.stderr);
    assert.equal(history.stdout.trim().split('\n').length, 6);
    const two = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--limit', '2']);
    assert.equal(two.stdout.trim().split('\n').length, 2);
  });

  test('events list and endpoints attempts take a --limit above the API page maximum (1000), in pages of at most 1000', async () => {
    const project = await client.createProject({ name: 'cli-over-1000' });
    const endpoint = await client.createEndpoint(project.id, { url: `${sink.url}/few`, eventTypes: ['few'] });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const many = Array.from({ length: 1000 }, (_, i) => ({ type: 'many', payload: { i } }));
    await client.sendEvents(project.id, many);
    await client.sendEvents(project.id, [
      { type: 'few', payload: { n: 1 } },
      { type: 'few', payload: { n: 2 } },
    ]);

    const events = await herald(['events', 'list', ...conn, '--limit', '1001']);
    assert.equal(events.code, 0, events.stderr);
    assert.equal(events.stdout.trim().split('\n').length, 1001);
    const page = await herald(['events', 'list', ...conn, '--limit', '5000', '--json']);
    assert.equal(page.code, 0, page.stderr);
    const first = JSON.parse(page.stdout) as { data: unknown[]; nextCursor: string | null };
    assert.equal(first.data.length, 1000, '--json prints one page, of at most 1000');
    assert.ok(first.nextCursor);

    const deadline = Date.now() + 10_000;
    while ((await allAttempts(client, project.id, endpoint.id)) < 2) {
      assert.ok(Date.now() < deadline, 'two attempts recorded');
      await sleep(20);
    }
    const attempts = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--limit', '1001']);
    assert.equal(attempts.code, 0, attempts.stderr);
    assert.equal(attempts.stdout.trim().split('\n').length, 2);
  });

  test('deliveries get prints one delivery as JSON, as events get lists it (--json the same); an unknown one, or another project’s, exits 1 with 404', async () => {
    const project = await client.createProject({ name: 'cli-delivery-get' });
    await client.createEndpoint(project.id, { url: `${sink.url}/delivery-get`, eventTypes: ['cli.get'] });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const event = await client.sendEvent(project.id, { type: 'cli.get', payload: {} });
    const id = event.deliveries[0]!.id;
    // The sink answers 200: once delivered, the delivery stays as it is for both reads.
    let listed = event.deliveries[0]!;
    for (let i = 0; i < 100 && listed.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      listed = (await client.getEvent(project.id, event.id)).deliveries[0]!;
    }
    assert.equal(listed.status, 'succeeded');
    for (const extra of [[], ['--json']]) {
      const got = await herald(['deliveries', 'get', id, ...conn, ...extra]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stderr, '');
      assert.deepEqual(JSON.parse(got.stdout), listed);
    }

    const missing = await herald(['deliveries', 'get', 'dlv_missing', ...conn]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /404 HERALD_ERR_NOT_FOUND.*delivery not found/);
    // Another project's key: the same 404, nothing that says the delivery exists elsewhere.
    const other = await client.createProject({ name: 'cli-delivery-get-other' });
    const otherKey = (await client.createApiKey(other.id, 'cli')).key;
    const theirs = await herald([
      'deliveries',
      'get',
      id,
      '--url',
      server.url,
      '--token',
      otherKey,
      '--project',
      other.id,
    ]);
    assert.deepEqual([theirs.code, theirs.stderr], [missing.code, missing.stderr]);
  });

  test('deliveries retry: a delivery of a disabled endpoint is refused with how to enable it; the help says so', async () => {
    const project = await client.createProject({ name: 'cli-retry-disabled' });
    const endpoint = await client.createEndpoint(project.id, { url: `${sink.url}/retry-disabled` });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const event = await client.sendEvent(project.id, { type: 'player.paid', payload: {} });
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    const refused = await herald(['deliveries', 'retry', event.deliveries[0]!.id, ...conn]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /409 HERALD_ERR_ENDPOINT_DISABLED/);
    assert.ok(
      refused.stderr.includes(`herald endpoints enable ${endpoint.id} --project ${project.id}`),
      refused.stderr,
    );

    const help = await herald(['deliveries', 'retry', '--help']);
    assert.doesNotMatch(help.stdout, /parked/, 'a parked delivery cannot be retried');
    assert.match(help.stdout, /disabled/);
  });

  test('endpoints recover|replay: a disabled endpoint is refused with the command that enables it', async () => {
    const project = await client.createProject({ name: 'cli-levers-disabled' });
    const endpoint = await client.createEndpoint(project.id, { url: `${sink.url}/levers-disabled` });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    for (const lever of ['recover', 'replay']) {
      const since = new Date(Date.now() - 60_000).toISOString();
      const refused = await herald(['endpoints', lever, endpoint.id, ...conn, '--since', since]);
      assert.equal(refused.code, 1, refused.stdout);
      assert.equal(refused.stdout, '', `${lever}: nothing on stdout`);
      assert.match(refused.stderr, /409 HERALD_ERR_ENDPOINT_DISABLED/);
      assert.ok(
        refused.stderr.includes(`herald endpoints enable ${endpoint.id} --project ${project.id}`),
        `${lever}: ${refused.stderr}`,
      );
    }
  });

  test('--cursor fetches the page after the one --json printed (events list, endpoints attempts|list)', async () => {
    const project = await client.createProject({ name: 'cli-cursor' });
    const endpoint = await client.createEndpoint(project.id, { url: `${sink.url}/cursor` });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const sent = await client.sendEvents(
      project.id,
      [1, 2, 3].map((n) => ({ type: 'player.paid', payload: { n } })),
    );
    const first = await herald(['events', 'list', ...conn, '--limit', '2', '--json']);
    const page = JSON.parse(first.stdout) as { data: { id: string }[]; nextCursor: string };
    assert.deepEqual(
      page.data.map((e) => e.id),
      [sent[2]!.id, sent[1]!.id],
    );
    const next = await herald([
      'events',
      'list',
      ...conn,
      '--limit',
      '2',
      '--json',
      '--cursor',
      page.nextCursor,
    ]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(
      (JSON.parse(next.stdout) as { data: { id: string }[]; nextCursor: null }).data.map((e) => e.id),
      [sent[0]!.id],
    );
    const lines = await herald(['events', 'list', ...conn, '--cursor', page.nextCursor]);
    assert.match(lines.stdout, new RegExp(`^${sent[0]!.id} player.paid \\S+\\n$`));

    const deadline = Date.now() + 10_000;
    while ((await allAttempts(client, project.id, endpoint.id)) < 3) {
      assert.ok(Date.now() < deadline, 'three attempts recorded');
      await sleep(20);
    }
    const newest = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--limit', '2', '--json']);
    const attempts = JSON.parse(newest.stdout) as { data: { id: string }[]; nextCursor: string };
    const older = await herald([
      'endpoints',
      'attempts',
      endpoint.id,
      ...conn,
      '--cursor',
      attempts.nextCursor,
    ]);
    assert.equal(older.code, 0, older.stderr);
    assert.equal(older.stdout.trim().split('\n').length, 1);
    assert.ok(!attempts.data.some((a) => older.stdout.startsWith(a.id)), 'the page after, not the same');

    const bad = await herald(['endpoints', 'list', ...conn, '--cursor', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /400 HERALD_ERR_VALIDATION: --cursor: /);
  });

  test('help: defaults as numbers, required flags marked; a missing argument is named before a missing flag', async () => {
    const list = await herald(['events', 'list', '--help']);
    assert.match(list.stdout, /--limit <n> +at most this many \(default: 20\)\n/);
    assert.match(list.stdout, /--project <project> +project id or uid \(required\)\n/);
    const listen = await herald(['listen', '--help']);
    assert.match(listen.stdout, /--interval <ms> +poll this often \(default: 1000\)/);
    assert.doesNotMatch(listen.stdout, /default: "/);
    const key = await herald(['projects', 'api-key', '--help']);
    assert.match(key.stdout, /--name <name> +what the key is for \(required\)/);

    const nothing = await herald(['events', 'send']);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /^error: missing required argument 'type'/);
    const noProject = await herald(['events', 'send', 'player.paid']);
    assert.equal(noProject.code, 1);
    assert.match(noProject.stderr, /^error: required option '--project <project>' not specified/);
    const noName = await herald(['projects', 'api-key', 'prj_x']);
    assert.equal(noName.code, 1);
    assert.match(noName.stderr, /^error: required option '--name <name>' not specified/);

    // A mistake says where the help is: a command names its --help, a group lists its commands.
    const unknown = await herald(['events', 'list', '--bogus']);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      "error: unknown option '--bogus'\n(`herald events list --help` lists its arguments and options)\n",
    );
    assert.match(nothing.stderr, /\n\(`herald events send --help` lists its arguments and options\)\n$/);
    const group = await herald(['endpoints', 'bogus']);
    assert.equal(group.code, 1);
    assert.match(
      group.stderr,
      /^error: unknown command 'bogus'\n\nUsage: herald endpoints .*\n[\s\S]*\n {2}rotate-secret /,
    );
  });

  test('listen forwards new events as the endpoint would get them, signed with its secret, once each', async () => {
    const project = await client.createProject({ name: 'listen' });
    const endpoint = await client.createEndpoint(project.id, {
      url: `${sink.url}/listen`,
      eventTypes: ['player.paid', 'player.joined'],
      headers: { 'x-game': 'cli' },
    });
    const secret = String(endpoint.secret);
    // Before the listener starts: never forwarded.
    await client.sendEvent(project.id, { type: 'player.paid', payload: { before: true } });

    const listen = spawn(
      NODE,
      [
        BIN,
        'listen',
        '--url',
        server.url,
        '--project',
        project.id,
        '--endpoint',
        endpoint.id,
        '--forward-to',
        `${receiver.url}/local/hook`,
        '--interval',
        '100',
      ],
      { env: { PATH: process.env.PATH ?? '', HERALD_TOKEN: ADMIN } },
    );
    children.push(listen);
    let out = '';
    listen.stdout.on('data', (c: Buffer) => (out += c));
    listen.stderr.on('data', (c: Buffer) => (out += c));
    const deadline = Date.now() + 10_000;
    while (!out.includes('herald listen: forwarding') && Date.now() < deadline) await sleep(20);
    assert.match(out, /herald listen: forwarding new events of .* as endpoint/);
    assert.ok(!out.includes(secret), 'the endpoint secret is not printed');

    const sent = await client.sendEvents(project.id, [
      { type: 'player.paid', payload: { n: 1 } },
      { type: 'guild.left', payload: { n: 2 } }, // not in the endpoint's filter
      { type: 'player.joined', payload: { n: 3 }, test: true }, // test event, endpoint not dev
      // A 64-bit id: forwarded with its digits (the CLI reads answers keeping them).
      { type: 'player.joined', payload: { n: 4, playerId: rawJSON('9007199254740993') } },
    ]);
    const got = await receiver.waitFor(2);
    await sleep(500); // five more polls: nothing else arrives
    assert.equal(receiver.requests.length, 2);
    for (const [i, want] of [sent[0]!, sent[3]!].entries()) {
      const req = got[i]!;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/local/hook');
      assert.equal(req.headers['x-game'], 'cli');
      // What Herald adds to what sign() makes, forwarded too (packages/verify/README.md, Sign).
      assert.equal(req.headers['user-agent'], 'Herald-Webhooks/0.1');
      const verified = verifyWebhook<{ type: string; data: unknown }>({
        scheme: 'standard',
        payload: req.body,
        headers: req.headers as Record<string, string>,
        secret,
      });
      assert.equal(verified.id, want.id);
      assert.equal(verified.payload.type, want.type);
      assert.deepEqual(verified.payload.data, want.payload);
    }
    assert.match(out, new RegExp(`${sent[0]!.id} player.paid → 200`));
    assert.ok(got[1]!.body.includes('"playerId":9007199254740993'), got[1]!.body);

    listen.kill('SIGINT');
    const code = await new Promise<number | null>((r) => listen.on('exit', (c) => r(c)));
    assert.equal(code, 0);
  });

  test('listen refuses a bad --forward-to and an unknown endpoint, naming them', async () => {
    const project = await client.createProject({ name: 'listen-errors' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const badUrl = await herald(['listen', ...conn, '--forward-to', 'localhost:3000']);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /--forward-to/);
    const unknown = await herald(['listen', ...conn, '--forward-to', receiver.url, '--endpoint', 'ep_nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /404/);
  });

  test('endpoints rotate-secret: --secret-file (or - for stdin) rotates to your secret; stderr says which secrets sign for the scheme; the help is true for every scheme', async () => {
    const help = await herald(['endpoints', 'rotate-secret', '--help']);
    assert.equal(help.code, 0, help.stderr);
    const helpText = help.stdout.replace(/\s+/g, ' ');
    assert.doesNotMatch(helpText, /keeps signing beside it|how long the old secret still signs/);
    assert.match(
      helpText,
      /standard and stripe sign with every valid secret; hmac-sha256, github, sha256-body and hmac-sha1-url with the newest only/,
    );
    assert.match(
      helpText,
      /--secret-file <path> rotate to this secret instead of a new one, read from the file \(- for stdin/,
    );

    const project = await client.createProject({ name: 'rotate' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const dir = mkdtempSync(join(tmpdir(), 'herald-cli-rotate-'));
    try {
      // github signs with the newest secret only: the grace does not keep the old one signing.
      const github = await client.createEndpoint(project.id, {
        url: `${sink.url}/github`,
        signature: { scheme: 'github' },
        secret: 'old-github-secret',
      });
      writeFileSync(join(dir, 'github'), 'new-github-secret\n');
      const own = await herald([
        'endpoints',
        'rotate-secret',
        github.id,
        ...conn,
        '--grace',
        '600',
        '--secret-file',
        join(dir, 'github'),
      ]);
      assert.equal(own.code, 0, own.stderr);
      assert.equal(own.stdout, 'new-github-secret\n');
      const secrets = await client.getEndpointSecret(project.id, github.id);
      assert.deepEqual(
        secrets.secrets.map((s) => s.secret),
        ['new-github-secret', 'old-github-secret'],
      );
      assert.equal(
        own.stderr,
        'herald: github: requests are signed with the new secret only, from now on, whatever the grace period; the receiver must already accept it\n',
      );
      const generated = await herald(['endpoints', 'rotate-secret', github.id, ...conn]);
      assert.equal(generated.code, 0, generated.stderr);
      assert.match(
        generated.stderr,
        /^herald: github: requests are signed with the new secret only, from now on, whatever the grace period; a receiver that knows only the old one refuses every request until it has the new one \(next time: give the receiver the new secret first, then rotate to it with --secret-file\)\n$/,
      );

      // standard: one signature per valid secret, so the old one signs until the grace ends; the
      // secret from stdin.
      const standard = await client.createEndpoint(project.id, { url: `${sink.url}/standard` });
      const chosen = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      const piped = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(
          NODE,
          [BIN, 'endpoints', 'rotate-secret', standard.id, ...conn, '--grace', '600', '--secret-file', '-'],
          {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? '' },
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c));
        child.stderr.on('data', (c: Buffer) => (stderr += c));
        child.on('exit', (code) => done({ code, stdout, stderr }));
        child.stdin.end(`${chosen}\n`);
      });
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stdout, `${chosen}\n`);
      assert.equal((await client.getEndpointSecret(project.id, standard.id)).secret, chosen);
      const old = (await client.getEndpointSecret(project.id, standard.id)).secrets[1]!;
      assert.equal(
        piped.stderr,
        `herald: standard: requests carry a signature with the new secret and one with each older secret until ${old.expiresAt}, so a receiver that knows only the old one keeps accepting them until then\n`,
      );
      const noGrace = await herald(['endpoints', 'rotate-secret', standard.id, ...conn, '--grace', '0']);
      assert.equal(noGrace.code, 0, noGrace.stderr);
      assert.equal(
        noGrace.stderr,
        'herald: standard: requests are signed with the new secret only (no older secret is still valid)\n',
      );

      const none = await client.createEndpoint(project.id, {
        url: `${sink.url}/none`,
        signature: { scheme: 'none' },
      });
      const unsigned = await herald(['endpoints', 'rotate-secret', none.id, ...conn]);
      assert.match(unsigned.stderr, /^herald: none: requests carry no signature/);

      // Refusals name --secret-file: an empty file, a secret the scheme refuses, the current one.
      writeFileSync(join(dir, 'empty'), '\n');
      const empty = await herald([
        'endpoints',
        'rotate-secret',
        github.id,
        ...conn,
        '--secret-file',
        join(dir, 'empty'),
      ]);
      assert.deepEqual(
        [empty.code, empty.stderr],
        [1, `herald: --secret-file: ${join(dir, 'empty')} is empty\n`],
      );
      writeFileSync(join(dir, 'short'), 'short');
      const short = await herald([
        'endpoints',
        'rotate-secret',
        github.id,
        ...conn,
        '--secret-file',
        join(dir, 'short'),
      ]);
      assert.equal(short.code, 1);
      assert.match(short.stderr, /^herald: 4\d\d HERALD_ERR_\w+: --secret-file: /);
      const missing = await herald([
        'endpoints',
        'rotate-secret',
        github.id,
        ...conn,
        '--secret-file',
        join(dir, 'nosuch'),
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^herald: --secret-file: cannot read .*nosuch/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("projects api-keys lists a project's keys (never the key) and revoke-api-key revokes one: requests with it are refused from then on", async () => {
    const admin = ['--url', server.url, '--token', ADMIN];
    const project = await client.createProject({ name: 'keys', uid: 'cli-keys' });
    const none = await herald(['projects', 'api-keys', 'cli-keys', ...admin]);
    assert.deepEqual(
      [none.code, none.stdout, none.stderr],
      [
        0,
        '',
        'herald: no API keys in cli-keys (add one with `herald projects api-key cli-keys --name NAME`)\n',
      ],
    );
    const made: { name: string; key: string; scope: string }[] = [];
    for (const [name, scope] of [
      ['backend', undefined],
      ['game server', undefined],
      ['producer', 'send'],
    ] as const) {
      const flags = scope === undefined ? [] : ['--scope', scope];
      const out = await herald(['projects', 'api-key', 'cli-keys', '--name', name, ...flags, ...admin]);
      assert.equal(out.code, 0, out.stderr);
      made.push({ name, key: out.stdout.trim(), scope: scope ?? 'full' });
    }
    const listed = await herald(['projects', 'api-keys', 'cli-keys', ...admin]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, listed.stdout);
    const ids: Record<string, string> = {};
    for (const { name, key, scope } of made) {
      const line = lines.find((l) => l.endsWith(` ${name}`));
      assert.ok(line, `${name} in ${listed.stdout}`);
      const match = /^(key_\S+) (\S+)… (\d{4}-\d\d-\d\dT\S+Z) (full|send|read) (.+)$/.exec(line);
      assert.ok(match, line);
      assert.ok(key.startsWith(match[2]!), 'the prefix is the start of the key');
      assert.equal(match[4], scope, `${name}'s scope`);
      assert.equal(match[5], name);
      assert.ok(!listed.stdout.includes(key), 'never the key itself');
      ids[name] = match[1]!;
    }
    // The send-only key sends events, and is refused the rest with its scope named.
    const producer = { HERALD_TOKEN: made[2]!.key };
    const sent = await herald(
      ['events', 'send', 'cli.sent', '--url', server.url, '--project', 'cli-keys', '--data', '{}'],
      producer,
    );
    assert.equal(sent.code, 0, sent.stderr);
    const notSender = await herald(
      ['endpoints', 'list', '--url', server.url, '--project', 'cli-keys'],
      producer,
    );
    assert.equal(notSender.code, 1);
    assert.match(notSender.stderr, /403.*scope is send/);
    // An unknown scope is refused before any request: no key is made.
    const bad = await herald([
      'projects',
      'api-key',
      'cli-keys',
      '--name',
      'x',
      '--scope',
      'admin',
      ...admin,
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /--scope <scope>' argument 'admin' is invalid\. Allowed choices are full, send, read/,
    );
    await herald(['projects', 'revoke-api-key', 'cli-keys', ids.producer!, ...admin]);
    const json = await herald(['projects', 'api-keys', project.id, '--json', ...admin]);
    assert.equal(json.code, 0, json.stderr);
    const keys = JSON.parse(json.stdout) as { id: string; name: string; prefix: string; createdAt: string }[];
    assert.deepEqual(keys.map((k) => k.id).sort(), [ids.backend, ids['game server']].sort());

    // A project's own key lists its keys too.
    const byKey = await herald(['projects', 'api-keys', 'cli-keys', '--url', server.url], {
      HERALD_TOKEN: made[0]!.key,
    });
    assert.equal(byKey.code, 0, byKey.stderr);
    assert.equal(byKey.stdout.trimEnd().split('\n').length, 2);

    const revoked = await herald(['projects', 'revoke-api-key', 'cli-keys', ids['game server']!, ...admin]);
    assert.deepEqual(
      [revoked.code, revoked.stdout, revoked.stderr],
      [0, `${ids['game server']}: revoked\n`, ''],
    );
    const refused = await herald(['endpoints', 'list', '--url', server.url, '--project', 'cli-keys'], {
      HERALD_TOKEN: made[1]!.key,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401/);
    const after = await herald(['projects', 'api-keys', 'cli-keys', ...admin]);
    assert.match(after.stdout, new RegExp(`^${ids.backend} \\S+… \\S+ full backend\\n$`));
    const again = await herald(['projects', 'revoke-api-key', 'cli-keys', ids['game server']!, ...admin]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /404/);
    const missingKey = await herald(['projects', 'revoke-api-key', 'cli-keys', ...admin]);
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stderr, /missing required argument 'key'/);
  });

  test("projects create|update --backlog-limit N|default set a project's own backlog limit (admin token); a project key is refused; bad values exit 1 before a request", async () => {
    const admin = ['--url', server.url, '--token', ADMIN];
    const created = await herald([
      'projects',
      'create',
      'Big tenant',
      '--uid',
      'cli-big',
      '--backlog-limit',
      '50000000',
      ...admin,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).backlogLimit, 50_000_000);
    const off = await herald(['projects', 'update', 'cli-big', '--backlog-limit', '0', ...admin]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(JSON.parse(off.stdout).backlogLimit, 0);
    const renamed = await herald(['projects', 'update', 'cli-big', '--name', 'Biggest', ...admin]);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.deepEqual(
      [JSON.parse(renamed.stdout).name, JSON.parse(renamed.stdout).backlogLimit],
      ['Biggest', 0],
    );
    const back = await herald(['projects', 'update', 'cli-big', '--backlog-limit', 'default', ...admin]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(JSON.parse(back.stdout).backlogLimit, null);
    assert.equal((await client.getProject('cli-big')).backlogLimit, null);

    for (const bad of ['-1', '1.5', 'x', '2000000000']) {
      const out = await herald(['projects', 'update', 'cli-big', `--backlog-limit=${bad}`, ...admin]);
      assert.equal(out.code, 1, `${bad}: ${out.stdout}`);
      assert.match(out.stderr, /--backlog-limit: expected an integer from 0 to 1000000000 or "default"/);
    }
    // No flag, or an empty one (unset, as every empty flag: docs/cli.md), is nothing to change.
    for (const given of [[], ['--backlog-limit=']]) {
      const nothing = await herald(['projects', 'update', 'cli-big', ...given, ...admin]);
      assert.equal(nothing.code, 1);
      assert.match(nothing.stderr, /nothing to change/);
    }

    const key = (await client.createApiKey('cli-big', 'backend')).key;
    const byKey = await herald(
      ['projects', 'update', 'cli-big', '--backlog-limit', '5', '--url', server.url],
      {
        HERALD_TOKEN: key,
      },
    );
    assert.equal(byKey.code, 1);
    // Named as typed, as every refusal of a flag's value is (docs/cli.md), not as body.backlogLimit.
    assert.equal(
      byKey.stderr,
      "herald: 403 HERALD_ERR_FORBIDDEN: --backlog-limit: only the admin token may set a project's backlog limit\n",
    );
    assert.equal((await client.getProject('cli-big')).backlogLimit, null);
    const uidByKey = await herald(
      ['projects', 'update', 'cli-big', '--uid', 'cli-bigger', '--url', server.url],
      {
        HERALD_TOKEN: key,
      },
    );
    assert.equal(uidByKey.code, 1);
    assert.equal(
      uidByKey.stderr,
      "herald: 403 HERALD_ERR_FORBIDDEN: --uid: only the admin token may change a project's uid\n",
    );
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many attempts an endpoint has, following every page. */
async function allAttempts(client: HeraldClient, project: string, endpoint: string): Promise<number> {
  let n = 0;
  for await (const _ of paginate((q) => client.listEndpointAttempts(project, endpoint, q), 100)) n++;
  return n;
}
