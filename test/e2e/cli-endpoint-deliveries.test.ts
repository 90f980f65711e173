/**
 * `herald endpoints deliveries` run in this process (run-herald-in-process.ts) against a real `herald serve --role api`:
 * nothing delivers there, so every delivery stays pending (and is parked when its endpoint is
 * disabled), and what the command prints can be compared with what the API answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'cli-deliveries-admin-token-0123456789';

describe('herald endpoints deliveries', () => {
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

  test('prints the counts, a table in the order they are due, and how to go on; parked ones once disabled', async () => {
    const project = await client.createProject({ name: 'cli-waiting' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/waiting' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const deliveries = (...args: string[]) =>
      runHeraldInProcess(['endpoints', 'deliveries', endpoint.id, ...conn, ...args]);
    await client.sendEvents(project.id, [
      { type: 'a', payload: {} },
      { type: 'b', payload: {} },
      { type: 'c', payload: {} },
    ]);
    const due = (await client.listEndpointDeliveries(project.id, endpoint.id)).data;
    assert.equal(due.length, 3);
    const row = (d: (typeof due)[number]) =>
      new RegExp(`^${d.id} +${d.eventId} +pending +0 +${d.nextAttemptAt!.replaceAll('.', '\\.')} +no$`);

    const all = await deliveries();
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stderr, '', 'the whole list: nothing to say on stderr');
    const lines = all.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '3 pending, 0 parked');
    assert.match(lines[1]!, /^DELIVERY +EVENT +STATUS +ATTEMPTS +NEXT ATTEMPT +IN FLIGHT$/);
    assert.equal(lines.length, 5);
    for (const [i, d] of due.entries()) assert.match(lines[i + 2]!, row(d));
    // The columns line up: every row's event id starts where the header's EVENT does.
    const eventColumn = lines[1]!.indexOf('EVENT');
    for (const [i, d] of due.entries()) assert.equal(lines[i + 2]!.indexOf(d.eventId), eventColumn);

    const two = await deliveries('--limit', '2');
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(two.stdout.trimEnd().split('\n').slice(2).length, 2);
    const more =
      /^herald: showing the first 2 pending deliveries; there are more: --limit N for more, or --cursor (\S+) for the next ones\n$/.exec(
        two.stderr,
      );
    assert.ok(more, two.stderr);
    const rest = await deliveries('--limit', '2', '--cursor', more[1]!);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(rest.stderr, '');
    const restLines = rest.stdout.trimEnd().split('\n');
    assert.match(
      restLines[0]!,
      /^DELIVERY /,
      'no counts after a cursor: the API counts on the first page only',
    );
    assert.equal(restLines.length, 2);
    assert.match(restLines[1]!, row(due[2]!));

    const json = await deliveries('--limit', '1', '--json');
    assert.equal(json.code, 0, json.stderr);
    const page = JSON.parse(json.stdout) as { data: unknown[]; nextCursor: string | null; counts: unknown };
    assert.deepEqual(page.data, due.slice(0, 1));
    assert.equal(typeof page.nextCursor, 'string');
    assert.deepEqual(page.counts, { pending: 3, parked: 0, atMost: 10_000 });

    const noParked = await deliveries('--status', 'parked');
    assert.deepEqual(
      [noParked.code, noParked.stdout, noParked.stderr],
      [0, '', `herald: no parked deliveries wait for ${endpoint.id} (3 pending, 0 parked)\n`],
    );

    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    const parked = await deliveries('--status', 'parked');
    assert.equal(parked.code, 0, parked.stderr);
    const parkedLines = parked.stdout.trimEnd().split('\n');
    assert.equal(parkedLines[0], '0 pending, 3 parked');
    assert.equal(parkedLines.length, 5);
    // Nothing is due while parked: no next attempt.
    for (const line of parkedLines.slice(2)) assert.match(line, /^dlv_\S+ +evt_\S+ +parked +0 +- +no$/);
    const noPending = await deliveries();
    assert.deepEqual(
      [noPending.code, noPending.stdout, noPending.stderr],
      [0, '', `herald: no pending deliveries wait for ${endpoint.id} (0 pending, 3 parked)\n`],
    );
  });

  test('a bad --status is refused before anything is sent; the API’s refusals name the flag or argument', async () => {
    const project = await client.createProject({ name: 'cli-waiting-refusals' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/refused' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    for (const [args, reason] of [
      [[endpoint.id, '--status', 'failed'], /^herald: --status: expected pending or parked, got failed\n$/],
      [[endpoint.id, '--limit', '0'], /^herald: --limit: expected a positive integer, got 0\n$/],
      [[endpoint.id, '--cursor', 'not-a-cursor'], /^herald: 400 HERALD_ERR_VALIDATION: --cursor: /],
      [['ep_missing'], /^herald: 404 HERALD_ERR_NOT_FOUND: /],
    ] as const) {
      const refused = await runHeraldInProcess(['endpoints', 'deliveries', ...args, ...conn]);
      assert.equal(refused.code, 1, args.join(' '));
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, reason);
    }
  });
});
