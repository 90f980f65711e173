/**
 * `herald events send` whose first try PostgreSQL committed but whose COMMIT's answer never reached
 * Herald (the connection cut while committing: a failover, a network blip): Herald answers 503
 * HERALD_ERR_DATABASE_UNAVAILABLE although the event is stored (docs/api.md "Errors"), the client
 * sends it again after Retry-After with the same key, and Herald answers with the stored event
 * (`idempotent-replayed: true`). That event is this very call's: the CLI says it was stored once,
 * not that its key "was used within the last 24 h" and nothing new was created. A real `herald
 * serve --role api` on a real PostgreSQL, through a loopback TCP proxy that forwards the next COMMIT
 * of a transaction storing events and then cuts the connection instead of passing PostgreSQL's answer on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldApiError, HeraldClient } from '@herald/client';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { commitAnswerCuttingProxy } from './commit-answer-cutting-proxy.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'cli-commit-lost-token-0123456789abcdef';
/** The statement of an accept's transaction that stores its events (postgres/accept-batch.ts). */
const EVENT_INSERT = 'INSERT INTO events (';

/** A database, the proxy in front of it and a `herald serve --role api` through it: one per test. */
interface Setup {
  proxy: Awaited<ReturnType<typeof commitAnswerCuttingProxy>>;
  server: HeraldProcess;
  client: HeraldClient;
  /** `herald events send player.purchase` to this server as the admin, into `project`. */
  sendArgs(project: string): string[];
}

// The tests run at once, each with a server and proxy of its own (one cuts or pauses its proxy while
// another sends through its own): most of each is the client waiting out Retry-After (5 s).
describe('events send whose COMMIT went through without its answer', { concurrency: true }, () => {
  let postgres: TestPostgres;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    postgres = await withPostgres();
  });
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await postgres?.stop();
  });
  async function setup(): Promise<Setup> {
    const url = new URL(await postgres.createDatabase());
    const proxy = await commitAnswerCuttingProxy(Number(url.port), EVENT_INSERT);
    url.port = String(proxy.port);
    // Four start at once, each loading Herald's modules and migrating a database of its own: on a
    // 2-core machine at load 11-13 one start took 2.3 s and four at once 10.2-12.9 s (CPU, nothing
    // waited on): the harness's wait for the ready line (READY_WAIT_MS) allows for that.
    const server = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATABASE_URL: url.toString() },
    }).catch(async (error: unknown) => {
      await proxy.close();
      throw error;
    });
    const client = new HeraldClient({ url: server.url, token: ADMIN });
    stops.push(async () => {
      await client.close();
      await server.dispose();
      await proxy.close();
    });
    const sendArgs = (project: string) => [
      ...['events', 'send', 'player.purchase'],
      ...['--url', server.url, '--token', ADMIN, '--project', project],
    ];
    return { proxy, server, client, sendArgs };
  }

  test('says stored once, with or without --idempotency-key, and one event is stored', async () => {
    const { proxy, client, sendArgs } = await setup();
    const project = await client.createProject({ name: 'commit-lost' });
    const send = sendArgs(project.id);

    proxy.state.cutNextCommit = true;
    const auto = await runHeraldInProcess([...send, '--data', '{"sku":"silver"}']);
    assert.equal(proxy.state.cut, 1, 'the first try committed and its answer was cut');
    assert.equal(auto.code, 0, auto.stderr);
    assert.doesNotMatch(auto.stderr, /undefined|was used within the last 24 h/);
    assert.match(auto.stderr, /^herald: the request was sent again after .*503.*\(above\): stored once\n$/);
    let events = await client.listEvents(project.id, { limit: 10 });
    assert.equal(events.data.length, 1, 'one event, not two');
    assert.equal(auto.stdout.split(' ')[0], events.data[0]!.id, 'the event printed is the one stored');

    proxy.state.cutNextCommit = true;
    const own = await runHeraldInProcess([
      ...send,
      '--data',
      '{"sku":"gold"}',
      '--idempotency-key',
      'order-9002',
    ]);
    assert.equal(proxy.state.cut, 2);
    assert.equal(own.code, 0, own.stderr);
    assert.match(
      own.stderr,
      /^herald: the request was sent again after .*503.*\(above, --idempotency-key order-9002\): stored once\n$/,
    );
    events = await client.listEvents(project.id, { limit: 10 });
    assert.equal(events.data.length, 2, 'one event more');
  });

  test('the client does not send an event without a key again after such a 503: it would be stored twice', async () => {
    const { proxy, server, client } = await setup();
    const project = await client.createProject({ name: 'commit-lost-no-key' });
    const keyless = new HeraldClient({ url: server.url, token: ADMIN, autoIdempotencyKeys: false });
    try {
      proxy.state.cutNextCommit = true;
      const before = proxy.state.cut;
      await assert.rejects(
        keyless.sendEvent(project.id, { type: 'player.purchase', payload: { sku: 'bronze' } }),
        (e: unknown) =>
          e instanceof HeraldApiError &&
          e.code === 'HERALD_ERR_DATABASE_UNAVAILABLE' &&
          (e.details as { stored?: unknown } | undefined)?.stored === 'unknown',
      );
      assert.equal(proxy.state.cut, before + 1, 'the first try committed and its answer was cut');
      const events = await client.listEvents(project.id, { limit: 10 });
      assert.equal(events.data.length, 1, 'stored once, by the one try: not sent again');
      // With a key it is sent again, and answered with the stored event.
      proxy.state.cutNextCommit = true;
      const keyed = await keyless.sendEvent(project.id, {
        type: 'player.purchase',
        payload: { sku: 'iron' },
        idempotencyKey: 'order-9003',
      });
      assert.equal(proxy.state.cut, before + 2);
      const all = await client.listEvents(project.id, { limit: 10 });
      assert.equal(all.data.length, 2);
      assert.equal(all.data[0]!.id, keyed.id);
    } finally {
      await keyless.close();
    }
  });

  test('events send whose every try failed, the first one maybe stored, gives the key to send it again with', async () => {
    const { proxy, client, sendArgs } = await setup();
    const project = await client.createProject({ name: 'commit-lost-then-down' });
    // The first try committed without its answer (503, details.stored "unknown"); the database is
    // then out of reach for the client's next tries (503s that say nothing of the first one).
    proxy.state.cutNextCommit = true;
    proxy.state.pauseOnCut = true;
    const before = proxy.state.cut;
    let failed: Awaited<ReturnType<typeof runHeraldInProcess>>;
    try {
      failed = await runHeraldInProcess([...sendArgs(project.id), '--data', '{"sku":"copper"}']);
    } finally {
      await proxy.resume();
    }
    assert.equal(proxy.state.cut, before + 1, 'the first try committed and its answer was cut');
    assert.equal(failed.code, 1, failed.stderr);
    const key = /add --idempotency-key (\S+)\n$/.exec(failed.stderr)?.[1];
    assert.ok(key, `the key the event went with is given: ${failed.stderr}`);
    assert.match(failed.stderr, /may have been stored/);
    // Sent again with it, as told: answered with the stored event, not stored twice.
    const again = await client.sendEvent(project.id, {
      type: 'player.purchase',
      payload: { sku: 'copper' },
      idempotencyKey: key,
    });
    const events = await client.listEvents(project.id, { limit: 10 });
    assert.deepEqual(
      events.data.map((e) => e.id),
      [again.id],
      "one event, the first try's",
    );
  });

  test('a 503 of a database that refused the connection stored nothing: the client sends even a request not safe to repeat again, and it is stored once', async () => {
    const { proxy, client } = await setup();
    // The database gone (its connections cut, new ones refused) and back a second later: Herald
    // answers 503 without details.stored, and the client tries again after Retry-After (5 s).
    await proxy.pause();
    // Its pool's idle connections seen closed first: a request on one as it closes may have been
    // sent, and is answered as possibly stored.
    await new Promise((r) => setTimeout(r, 500));
    const creating = client.createProject({ name: 'made-during-an-outage' });
    await new Promise((r) => setTimeout(r, 1_000));
    await proxy.resume();
    const made = await creating;
    const all = await client.listProjects({ limit: 100 });
    assert.deepEqual(
      all.data.filter((p) => p.name === 'made-during-an-outage').map((p) => p.id),
      [made.id],
    );
  });
});
