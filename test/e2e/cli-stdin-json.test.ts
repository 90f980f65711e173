/**
 * `--data @-` and `--settings @-` read their JSON from stdin, as `--secret-file -` reads a secret:
 * a payload made by another program (`jq … | herald events send …`) needs no temporary file. Real
 * CLI processes against a real `herald serve`. Stdin is read up to 64 MiB, the largest
 * HERALD_MAX_BODY_BYTES: it was read whole, however much it held. So is a file those flags name.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { MAX_STDIN_BYTES } from '../../src/cli/read-text-file.ts';
import { sparseFile, writeToFifo } from '../support/oversized-files.ts';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, runHerald, startHerald } from './harness.ts';

const ADMIN = 'cli-stdin-json-token-0123456789';

describe('herald CLI: JSON flags from stdin', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  test('--data @- sends what stdin holds; --settings @- too; JSON that does not parse names stdin', async () => {
    const project = await client.createProject({ name: 'stdin' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const run = (args: string[], input: string) => runHerald(args, { input, killAfterMs: 20_000 });

    const sent = await run(
      ['events', 'send', 'player.joined', ...conn, '--data', '@-', '--json'],
      '\uFEFF{"playerId": 42, "name": "日本語"}\n',
    );
    assert.equal(sent.code, 0, sent.stderr);
    const event = JSON.parse(sent.stdout) as { id: string };
    assert.deepEqual((await client.getEvent(project.id, event.id)).payload, { playerId: 42, name: '日本語' });

    const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/stdin' });
    const updated = await run(
      ['endpoints', 'update', endpoint.id, ...conn, '--settings', '@-', '--json'],
      '{"headers": {"x-game": "raiders"}}',
    );
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual((await client.getEndpoint(project.id, endpoint.id)).headers, { 'x-game': 'raiders' });

    const broken = await run(
      ['events', 'send', 'player.joined', ...conn, '--data', '@-'],
      '{"playerId": 42,}',
    );
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^herald: --data: stdin is not valid JSON: [^\n]+\n$/, broken.stderr);
  });

  test('stdin over 64 MiB (the largest HERALD_MAX_BODY_BYTES) is refused naming the flag and the limit, nothing sent; 64 MiB is read', async () => {
    const project = await client.createProject({ name: 'stdin-limit' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    /** A JSON object of exactly `bytes` bytes. */
    const payload = (bytes: number) => `{"a":"${'x'.repeat(bytes - 8)}"}`;
    const send = (input: string) =>
      runHerald(['events', 'send', 'player.joined', ...conn, '--data', '@-'], { input, killAfterMs: 60_000 });

    const over = await send(payload(MAX_STDIN_BYTES + 1));
    assert.equal(over.code, 1, over.stderr);
    assert.equal(
      over.stderr,
      'herald: --data: stdin holds more than 67108864 bytes (64 MiB), the largest request body any Herald takes (HERALD_MAX_BODY_BYTES at most): nothing was sent\n',
    );
    assert.deepEqual((await client.listEvents(project.id)).data, [], 'nothing was stored');

    // At the limit it is read whole and taken to the JSON parser (not valid JSON: fails at once). In
    // this process (run-herald-in-process.ts): 64 MiB through a pipe took ~9 s at a load of 18.
    const at = await runHeraldInProcess(['events', 'send', 'player.joined', ...conn, '--data', '@-'], {
      input: 'x'.repeat(MAX_STDIN_BYTES),
      killAfterMs: 60_000,
    });
    assert.equal(at.code, 1, at.stderr);
    assert.match(at.stderr, /^herald: --data: stdin is not valid JSON: /, at.stderr);
  });

  test('a file over 64 MiB named by --data, --settings or --secret-file is refused by its size before it is read, naming the flag; 64 MiB is read', async () => {
    const project = await client.createProject({ name: 'file-limit' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/file-limit' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const dir = mkdtempSync(join(tmpdir(), 'herald-file-limit-'));
    /** A file of `bytes` bytes, not JSON (nor a secret) past its size check. */
    const sized = (name: string, bytes: number) => sparseFile(join(dir, name), bytes);
    try {
      const over = sized('over.json', MAX_STDIN_BYTES + 1);
      const line = (flag: string) =>
        `herald: ${flag}: ${over} holds more than 67108864 bytes (64 MiB), the largest request body any Herald takes (HERALD_MAX_BODY_BYTES at most): nothing was sent\n`;
      for (const [args, flag] of [
        [['events', 'send', 'player.joined', ...conn, '--data', `@${over}`], '--data'],
        [['endpoints', 'update', endpoint.id, ...conn, '--settings', `@${over}`], '--settings'],
        [['endpoints', 'rotate-secret', endpoint.id, ...conn, '--secret-file', over], '--secret-file'],
      ] as const) {
        const run = await runHerald([...args], { killAfterMs: 60_000 });
        assert.equal(run.code, 1, args.join(' '));
        assert.equal(run.stderr, line(flag), args.join(' '));
      }
      assert.deepEqual((await client.listEvents(project.id)).data, [], 'nothing was stored');
      assert.equal((await client.getEndpointSecret(project.id, endpoint.id)).secrets.length, 1);

      // A file without a size (a named pipe, as `<(jq …)` gives) is read up to the bound, then
      // refused the same way.
      const fifo = join(dir, 'fifo.json');
      execFileSync('mkfifo', [fifo]);
      const piped = runHerald(['events', 'send', 'player.joined', ...conn, '--data', `@${fifo}`], {
        killAfterMs: 60_000,
      });
      // 16 MiB more than the bound: the CLI stops reading at it, so the rest cannot be written.
      const written = writeToFifo(fifo, 'x'.repeat(MAX_STDIN_BYTES + 16 * 1024 * 1024));
      const fromFifo = await piped;
      assert.equal(await written, 'EPIPE', 'the CLI read no further than the bound');
      assert.equal(fromFifo.code, 1, fromFifo.stderr);
      assert.equal(
        fromFifo.stderr,
        `herald: --data: ${fifo} holds more than 67108864 bytes (64 MiB), the largest request body any Herald takes (HERALD_MAX_BODY_BYTES at most): nothing was sent\n`,
      );

      // At the limit it is read whole and taken to the JSON parser (not valid JSON: fails at once).
      const at = sized('at.json', MAX_STDIN_BYTES);
      const read = await runHerald(['events', 'send', 'player.joined', ...conn, '--data', `@${at}`], {
        killAfterMs: 60_000,
      });
      assert.equal(read.code, 1, read.stderr);
      assert.match(read.stderr, new RegExp(`^herald: --data: ${at} is not valid JSON: `), read.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
