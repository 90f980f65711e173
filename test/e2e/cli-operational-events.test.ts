/**
 * `herald operational-events list` run in this process (run-herald-in-process.ts) against a real `herald serve` (API and
 * dispatcher): an endpoint disabled and enabled again, and a delivery that ran out of retries, as a
 * table in the API's order (newest first), narrowed by --type and --endpoint, paged by --limit and
 * --cursor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, type OperationalEvent } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const ADMIN = 'cli-operational-events-admin-token-0123456789';

describe('herald operational-events list', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let projectId: string;
  /** The project's operational events as the API lists them: recovered, disabled, exhausted. */
  let ops: OperationalEvent[];
  const list = (...args: string[]) =>
    runHeraldInProcess(['operational-events', 'list', ...args, '--url', server.url, '--token', ADMIN]);

  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    projectId = (await client.createProject({ name: 'cli-ops' })).id;
    // Nothing listens on port 9 (discard): with no retries, the first refused connection exhausts
    // the delivery.
    const endpoint = await client.createEndpoint(projectId, {
      url: 'http://127.0.0.1:9/hooks',
      retrySchedule: [],
    });
    const event = await client.sendEvent(projectId, { type: 'player.joined', payload: {} });
    await eventually(
      async () => (await client.listOperationalEvents(projectId)).data.length === 1,
      20_000,
      'delivery.exhausted',
    );
    await client.updateEndpoint(projectId, endpoint.id, { active: false });
    await client.enableEndpoint(projectId, endpoint.id);
    ops = (await client.listOperationalEvents(projectId)).data;
    assert.deepEqual(
      ops.map((o) => [o.type, o.data.endpointId]),
      [
        ['endpoint.recovered', endpoint.id],
        ['endpoint.disabled', endpoint.id],
        ['delivery.exhausted', endpoint.id],
      ],
    );
    assert.equal(ops[2]!.data.eventId, event.id);
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  test('a table in the API’s order: id, time, type, endpoint and the rest of its data', async () => {
    const all = await list(projectId);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stderr, '', 'the whole list: nothing to say on stderr');
    const lines = all.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID +TIME +TYPE +ENDPOINT +DETAILS$/);
    assert.equal(lines.length, 4);
    const [recovered, disabled, exhausted] = ops;
    const head = (o: OperationalEvent) =>
      `^${o.id} +${o.createdAt.replaceAll('.', '\\.')} +${o.type.replaceAll('.', '\\.')} +${o.data.endpointId} +`;
    assert.match(lines[1]!, new RegExp(`${head(recovered!)}resumed=0$`));
    assert.match(lines[2]!, new RegExp(`${head(disabled!)}reason=manual consecutiveFailures=1 parked=0$`));
    const d = exhausted!.data;
    assert.match(
      lines[3]!,
      new RegExp(
        `${head(exhausted!)}deliveryId=${d.deliveryId} eventId=${d.eventId} eventType=player\\.joined url=http://127\\.0\\.0\\.1:9/hooks attempts=1 reason=retries_exhausted lastStatus=null lastError=connect$`,
      ),
    );
    // The columns line up: every row's type starts where the header's TYPE does.
    const typeColumn = lines[0]!.indexOf('TYPE');
    for (const [i, o] of ops.entries()) assert.equal(lines[i + 1]!.indexOf(o.type), typeColumn);
  });

  test('--type narrows it; --limit stops it, and --cursor goes on where it stopped; --json prints the page', async () => {
    const disabled = await list(projectId, '--type', 'endpoint.disabled');
    assert.equal(disabled.code, 0, disabled.stderr);
    const rows = disabled.stdout.trimEnd().split('\n').slice(1);
    assert.deepEqual(
      rows.map((line) => line.split(' ')[0]),
      [ops[1]!.id],
    );

    const first = await list(projectId, '--limit', '1');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trimEnd().split('\n')[1]!.split(' ')[0], ops[0]!.id);
    const more =
      /^herald: showing the first 1 operational event; there are more: --limit N for more, or --cursor (\S+) for the next ones\n$/.exec(
        first.stderr,
      );
    assert.ok(more, first.stderr);
    const next = await list(projectId, '--limit', '1', '--cursor', more[1]!);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stdout.trimEnd().split('\n')[1]!.split(' ')[0], ops[1]!.id);
    assert.match(next.stderr, /^herald: showing the next 1 operational event; there are more: /);
    const rest = await list(projectId, '--cursor', more[1]!);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(rest.stderr, '', 'to the end of the list: nothing more to say');
    assert.equal(rest.stdout.trimEnd().split('\n').length, 3);

    const json = await list(projectId, '--limit', '2', '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), await client.listOperationalEvents(projectId, { limit: 2 }));
    const jsonType = await list(projectId, '--type', 'delivery.exhausted', '--json');
    assert.deepEqual(JSON.parse(jsonType.stdout), { data: [ops[2]], nextCursor: null });
  });

  test('an empty list says so on stderr (exit code 0), with the filters that narrowed it; --json prints it', async () => {
    const quiet = (await client.createProject({ name: 'cli-ops-quiet' })).id;
    const empty = await list(quiet);
    const why =
      '(Herald records one when an endpoint is disabled or enabled again, or a delivery runs out of retries)';
    assert.deepEqual(
      [empty.code, empty.stdout, empty.stderr],
      [0, '', `herald: no operational events in ${quiet} ${why}\n`],
    );
    // After the disabled one, only the exhausted delivery is left.
    const afterDisabled = (await client.listOperationalEvents(projectId, { limit: 2 })).nextCursor!;
    const none = await list(projectId, '--type', 'endpoint.disabled', '--cursor', afterDisabled);
    assert.deepEqual(
      [none.code, none.stdout, none.stderr],
      [0, '', `herald: no operational events in ${projectId} matching --type after --cursor ${why}\n`],
    );
    const json = await list(quiet, '--json');
    assert.deepEqual(
      [json.code, JSON.parse(json.stdout), json.stderr],
      [0, { data: [], nextCursor: null }, ''],
    );
  });

  test("--endpoint narrows it to one endpoint's, with --type, --limit, --cursor and --json; an empty or over-long one is refused naming it", async () => {
    const two = (await client.createProject({ name: 'cli-ops-two' })).id;
    const [a, b] = await Promise.all(
      ['a', 'b'].map(
        async (n) => (await client.createEndpoint(two, { url: `https://example.test/${n}` })).id,
      ),
    );
    await client.updateEndpoint(two, a!, { active: false });
    await client.updateEndpoint(two, b!, { active: false });
    await client.enableEndpoint(two, a!);
    const ofA = (await client.listOperationalEvents(two, { endpoint: a! })).data;
    assert.deepEqual(
      ofA.map((o) => o.type),
      ['endpoint.recovered', 'endpoint.disabled'],
    );
    const ids = (stdout: string) =>
      stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((line) => line.split(' ')[0]);

    const all = await list(two, '--endpoint', a!);
    assert.deepEqual([all.code, all.stderr], [0, ''], all.stderr);
    assert.deepEqual(
      ids(all.stdout),
      ofA.map((o) => o.id),
    );
    const disabled = await list(two, '--endpoint', a!, '--type', 'endpoint.disabled');
    assert.deepEqual(ids(disabled.stdout), [ofA[1]!.id]);
    const first = await list(two, '--endpoint', a!, '--limit', '1');
    assert.deepEqual(ids(first.stdout), [ofA[0]!.id]);
    const cursor = /--cursor (\S+) for the next ones/.exec(first.stderr)?.[1];
    assert.ok(cursor, first.stderr);
    const rest = await list(two, '--endpoint', a!, '--cursor', cursor);
    assert.deepEqual([ids(rest.stdout), rest.stderr], [[ofA[1]!.id], '']);
    const json = await list(two, '--endpoint', b!, '--json');
    assert.deepEqual(JSON.parse(json.stdout), await client.listOperationalEvents(two, { endpoint: b! }));

    const none = await list(two, '--endpoint', 'ep_none');
    assert.deepEqual(
      [none.code, none.stdout, none.stderr],
      [
        0,
        '',
        `herald: no operational events in ${two} matching --endpoint (Herald records one when an endpoint is disabled or enabled again, or a delivery runs out of retries)\n`,
      ],
    );
    // Empty (an unset "$ENDPOINT") is not "every endpoint's".
    const empty = await list(two, '--endpoint', '');
    assert.deepEqual(
      [empty.code, empty.stdout, empty.stderr],
      [1, '', 'herald: --endpoint: must not be empty\n'],
    );
    const long = await list(two, '--endpoint', `ep_${'x'.repeat(300)}`);
    assert.deepEqual(
      [long.code, long.stdout, long.stderr],
      [1, '', 'herald: 400 HERALD_ERR_VALIDATION: --endpoint: must be at most 200 characters long\n'],
    );
  });

  test('the project is taken as --project too, as by the other commands (it was "unknown option"); none, or two that differ, say what to write', async () => {
    const byArgument = await list(projectId);
    const byFlag = await list('--project', projectId);
    assert.deepEqual([byFlag.code, byFlag.stderr], [0, ''], byFlag.stderr);
    assert.equal(byFlag.stdout, byArgument.stdout);
    assert.equal((await list(projectId, '--project', projectId)).stdout, byArgument.stdout);
    const none = await list();
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^error: missing the project: give it as --project <project> \(or as the argument\)\n/,
    );
    const two = await list('other', '--project', projectId);
    assert.equal(two.code, 1);
    assert.match(
      two.stderr,
      new RegExp(
        `^error: the project is given twice, as <project> \\(other\\) and --project \\(${projectId}\\): give it once\n`,
      ),
    );
    const emptyFlag = await list('--project', '');
    assert.deepEqual([emptyFlag.code, emptyFlag.stderr], [1, 'herald: --project: must not be empty\n']);
    const help = await runHeraldInProcess(['operational-events', 'list', '--help']);
    assert.match(help.stdout, /^Usage: herald operational-events list \[options\] \[project\]$/m);
    assert.match(help.stdout, /^ +--project <project> +project id or uid \(or as the argument\)/m);
  });

  test('bad input is refused naming the flag (exit code 1); a project key sees its own project only', async () => {
    for (const [args, reason] of [
      [
        ['--type', 'endpoint.disable'],
        'herald: 400 HERALD_ERR_VALIDATION: --type: must be one of endpoint.disabled, endpoint.recovered, delivery.exhausted\n',
      ],
      [['--limit', '0'], 'herald: --limit: expected a positive integer, got 0\n'],
      [['--limit', 'ten'], 'herald: --limit: expected a positive integer, got ten\n'],
    ] as const) {
      const refused = await list(projectId, ...args);
      assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '', reason], args.join(' '));
    }
    const badCursor = await list(projectId, '--cursor', 'not-a-cursor');
    assert.equal(badCursor.code, 1);
    assert.match(badCursor.stderr, /^herald: 400 HERALD_ERR_VALIDATION: --cursor: /);
    const empty = await list('');
    assert.deepEqual(
      [empty.code, empty.stdout, empty.stderr],
      [1, '', 'herald: <project>: must not be empty\n'],
    );

    const { key } = await client.createApiKey(projectId, 'support');
    const other = (await client.createProject({ name: 'cli-ops-other' })).id;
    const withKey = (project: string) =>
      runHeraldInProcess(['operational-events', 'list', project, '--url', server.url], {
        env: { HERALD_TOKEN: key },
      });
    const own = await withKey(projectId);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stdout.trimEnd().split('\n').length, 4);
    const refused = await withKey(other);
    assert.deepEqual(
      [refused.code, refused.stdout, refused.stderr],
      [1, '', 'herald: 404 HERALD_ERR_NOT_FOUND: project not found\n'],
    );
  });
});
