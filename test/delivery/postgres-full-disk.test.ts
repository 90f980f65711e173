/**
 * PostgreSQL's full disk (disk_full, 53100), the twin of full-disk-writes.test.ts: Herald's
 * database lives in a tablespace on a 32 MiB tmpfs the test mounts (tests run as root; owned by the
 * OS user the server runs as) and fills with a file; deleting the file frees it. A write that must
 * grow a table (here a large payload or response body, taken to TOAST in new pages) then fails with
 * "could not extend file …: No space left on device". The API answers it 503 HERALD_ERR_STORAGE_FULL,
 * and an attempt's record refused so is written once space is freed, well before the lease (10
 * minutes here): sent once, recorded once. The real server, store, dispatcher and sender, a
 * loopback receiver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { storeUnavailable } from '../../src/api/store-failure-answers.ts';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { fillFileSystem } from '../support/fill-file-system.ts';
import { startPostgres } from '../support/postgres.ts';
import { until } from '../support/wait-until.ts';
import { heldReceiver } from './held-receiver.ts';

const LEASE_MS = 600_000;
/** Text that does not compress: a value this large is stored out of line, in new TOAST pages. */
const incompressible = (bytes: number) => randomBytes(bytes).toString('base64').slice(0, bytes);

test('PostgreSQL full disk: accept answers 503 HERALD_ERR_STORAGE_FULL; an attempt sent as the disk filled is recorded once space is freed, sent once', async () => {
  const server = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'herald-pg-full-disk-'));
  const uid = execFileSync('id', ['-u', 'postgres']).toString().trim();
  const gid = execFileSync('id', ['-g', 'postgres']).toString().trim();
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=32m,uid=${uid},gid=${gid},mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const admin = new pg.Client(server.url);
    await admin.connect();
    await admin.query(`CREATE TABLESPACE herald_small LOCATION '${dir}'`);
    await admin.query('CREATE DATABASE herald_full TABLESPACE herald_small');
    await admin.end();
    const store = await openStore(server.url.replace(/\/postgres$/, '/herald_full'));
    cleanups.push(() => store.close());
    // Holding its one request until letGo(), then answering 60 KB of text.
    const receiver = await heldReceiver(['first'], incompressible(60_000));
    cleanups.push(() => receiver.close());
    const sender = createSender({
      allowNetworks: ['127.0.0.1/32'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    cleanups.push(() => sender.close());
    const errors: string[] = [];
    const dispatcher = createDispatcher({
      store,
      send: sender.send,
      config: { ...DEFAULT_DELIVERY, pollIntervalMs: 20, allowNetworks: ['127.0.0.1/32'], leaseMs: LEASE_MS },
      workerId: 'w-pg-full-disk',
      hooks: {
        onError: (error, during) =>
          errors.push(`${during}: ${String((error as { code?: unknown }).code)} ${(error as Error).message}`),
      },
    });
    cleanups.push(() => dispatcher.stop({ graceMs: 1_000 }));
    const now = Date.now();
    const project = await store.createProject({ name: 'pg-full-disk' }, now);
    await store.createEndpoint(
      endpointInput(project.id, { url: `${receiver.url}/first`, signature: { scheme: 'none' } }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now,
    );

    await dispatcher.start();
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], Date.now());
    const deliveryId = accepted!.deliveries[0]!.id;
    await until('the attempt is out', () => receiver.held.length === 1);
    fillFileSystem(filler, [1 << 20, 8192, 512]);

    // An event too large for the pages the tables have: the API's answer for its failure.
    const refused = await store
      .acceptEvents(project.id, [eventInput('a', { payload: { data: incompressible(200_000) } })], Date.now())
      .then(
        () => null,
        (error: unknown) => error,
      );
    assert.equal((refused as { code?: unknown } | null)?.code, '53100', String(refused));
    assert.equal(storeUnavailable(refused, 'POST')?.code, 'HERALD_ERR_STORAGE_FULL');

    receiver.letGo(); // its record, with the 60 KB response body, cannot be written now
    await until('the record failed on the full disk', () =>
      errors.some((e) => e.startsWith('recordAttempts') && e.includes('53100')),
    );
    const freedAt = Date.now();
    rmSync(filler);
    await until(
      'the attempt is recorded',
      async () => (await store.getDelivery(project.id, deliveryId))?.status === 'succeeded',
      30_000,
    );
    assert.ok(Date.now() - freedAt < LEASE_MS / 10);
    const delivery = await store.getDelivery(project.id, deliveryId);
    assert.equal(delivery?.attempts, 1);
    assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 1);
    assert.deepEqual(receiver.arrivals, ['first']);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await server.stop();
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
