/**
 * The CLI's list commands say on stderr when they stopped at --limit before the end of the list,
 * with the cursor that goes on from there; stdout keeps the items only (a tester: `endpoints list`
 * printed the first 100 of 20,000 endpoints, exit 0, and nothing said more existed; it had no
 * --limit). Also `events get`, whose attempts stopped at 100 silently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';

const ADMIN = 'cli-limits-admin-token-0123456789';
const MORE =
  /^herald: showing the (?:first|next) (\d+) (\w+); there are more: --limit N for more, or --cursor (\S+) for the next ones\n$/;

describe('CLI lists that stop before the end say so', { timeout: 120_000 }, () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let receiver: Receiver;
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    receiver = await startReceiver();
  });
  after(async () => {
    await client?.close();
    await receiver?.close();
    await server?.dispose();
  });

  test('endpoints list: 100 by default and says there are more, --limit N, --cursor from the note', async () => {
    const project = await client.createProject({ name: 'many endpoints' });
    const created: string[] = [];
    for (let i = 0; i < 101; i++)
      created.push((await client.createEndpoint(project.id, { url: `http://127.0.0.1:9/h${i}` })).id);
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];

    const first = await runHeraldInProcess(['endpoints', 'list', ...conn]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim().split('\n').length, 100);
    const note = MORE.exec(first.stderr);
    assert.ok(note, `stderr says it stopped: ${JSON.stringify(first.stderr)}`);
    assert.deepEqual([note[1], note[2]], ['100', 'endpoints']);

    const rest = await runHeraldInProcess(['endpoints', 'list', ...conn, '--cursor', note[3]!]);
    assert.deepEqual([rest.code, rest.stderr], [0, '']);
    const listed = [...first.stdout.trim().split('\n'), ...rest.stdout.trim().split('\n')].map(
      (line) => line.split(' ')[0],
    );
    assert.deepEqual(
      [...listed].sort(),
      [...created].sort(),
      'the note’s cursor goes on after the last shown',
    );

    // From a cursor, the note says these are the next ones, not the first.
    const two = MORE.exec((await runHeraldInProcess(['endpoints', 'list', ...conn, '--limit', '2'])).stderr);
    assert.ok(two);
    const next = await runHeraldInProcess([
      'endpoints',
      'list',
      ...conn,
      '--limit',
      '2',
      '--cursor',
      two[3]!,
    ]);
    assert.match(next.stderr, /^herald: showing the next 2 endpoints;/);

    const all = await runHeraldInProcess(['endpoints', 'list', ...conn, '--limit', '101']);
    assert.deepEqual([all.code, all.stdout.trim().split('\n').length, all.stderr], [0, 101, '']);
    const twoJson = await runHeraldInProcess(['endpoints', 'list', ...conn, '--limit', '2', '--json']);
    const page = JSON.parse(twoJson.stdout) as { data: unknown[]; nextCursor: string | null };
    assert.equal(page.data.length, 2);
    assert.ok(page.nextCursor);
    const bad = await runHeraldInProcess(['endpoints', 'list', ...conn, '--limit', '0']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--limit: expected a positive integer, got 0/);
  });

  test('events list, endpoints attempts and events get --attempts say when they stopped', async () => {
    const project = await client.createProject({ name: 'few events' });
    const endpoints = [];
    for (let i = 0; i < 3; i++)
      endpoints.push(await client.createEndpoint(project.id, { url: `${receiver.url}/e${i}` }));
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const sent = [];
    for (let i = 0; i < 3; i++)
      sent.push(await client.sendEvent(project.id, { type: 'player.paid', payload: { i } }));
    await receiver.waitFor(9, 20_000);
    const deadline = Date.now() + 10_000;
    while ((await client.listEventAttempts(project.id, sent[0]!.id, { limit: 10 })).data.length < 3) {
      assert.ok(Date.now() < deadline, 'three attempts recorded');
      await new Promise((r) => setTimeout(r, 50));
    }
    while ((await client.listEndpointAttempts(project.id, endpoints[0]!.id, { limit: 10 })).data.length < 3) {
      assert.ok(Date.now() < deadline, 'three attempts recorded');
      await new Promise((r) => setTimeout(r, 50));
    }

    const two = await runHeraldInProcess(['events', 'list', ...conn, '--limit', '2']);
    assert.equal(two.code, 0, two.stderr);
    assert.equal(two.stdout.trim().split('\n').length, 2);
    const note = MORE.exec(two.stderr);
    assert.ok(note, two.stderr);
    assert.deepEqual([note[1], note[2]], ['2', 'events']);
    const single = await runHeraldInProcess(['events', 'list', ...conn, '--limit', '1']);
    assert.match(single.stderr, /^herald: showing the first 1 event; there are more: /);
    const rest = await runHeraldInProcess(['events', 'list', ...conn, '--cursor', note[3]!]);
    assert.deepEqual([rest.stdout.split(' ')[0], rest.stderr], [sent[0]!.id, '']);
    const every = await runHeraldInProcess(['events', 'list', ...conn]);
    assert.deepEqual([every.stdout.trim().split('\n').length, every.stderr], [3, '']);

    const attempts = await runHeraldInProcess([
      'endpoints',
      'attempts',
      endpoints[0]!.id,
      ...conn,
      '--limit',
      '2',
    ]);
    assert.equal(attempts.stdout.trim().split('\n').length, 2);
    const attemptsNote = MORE.exec(attempts.stderr);
    assert.ok(attemptsNote, attempts.stderr);
    assert.deepEqual([attemptsNote[1], attemptsNote[2]], ['2', 'attempts']);
    const lastAttempt = await runHeraldInProcess([
      'endpoints',
      'attempts',
      endpoints[0]!.id,
      ...conn,
      '--cursor',
      attemptsNote[3]!,
    ]);
    assert.deepEqual([lastAttempt.stdout.trim().split('\n').length, lastAttempt.stderr], [1, '']);

    const event = await runHeraldInProcess(['events', 'get', sent[0]!.id, ...conn, '--attempts', '2']);
    assert.equal(event.code, 0, event.stderr);
    assert.equal((JSON.parse(event.stdout) as { attempts: unknown[] }).attempts.length, 2);
    assert.match(event.stderr, /^herald: the event has more than 2 attempts; .*--attempts N for more\n$/);
    const one = await runHeraldInProcess(['events', 'get', sent[0]!.id, ...conn, '--attempts', '1']);
    assert.match(one.stderr, /^herald: the event has more than 1 attempt; "attempts" holds the newest 1: /);
    const whole = await runHeraldInProcess(['events', 'get', sent[0]!.id, ...conn]);
    assert.deepEqual(
      [(JSON.parse(whole.stdout) as { attempts: unknown[] }).attempts.length, whole.stderr],
      [3, ''],
    );
  });
});
