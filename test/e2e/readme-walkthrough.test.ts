/**
 * The README's "A first webhook, with curl" and "Developing a receiver: `herald listen`", run as the
 * README writes them: the serve line's settings, the third terminal's script read from the
 * markdown and run by bash with curl, then its `herald listen` line. Only the two fixed ports are
 * replaced (8080: the Herald this test started on a free port; 9000: a receiver on loopback), so a
 * walkthrough edited into one that no longer works (a route, a field, a command) fails here.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { verify } from '../../packages/verify/src/index.ts';
import { type HeraldProcess, type Receiver, startHerald, startReceiver } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The clone's Node 24 first, as `npx` would put it; curl and bash from the system. */
const PATH = `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;

/** The ```sh blocks of the README section headed `## <heading>`. */
function shBlocks(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a section "${heading}"`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
}

describe("the README's walkthrough, as written", () => {
  let herald: HeraldProcess;
  let receiver: Receiver;
  let listen: ChildProcess | undefined;
  /** The third terminal's script with the test's ports, and what `herald listen` needs from it. */
  let localize: (script: string) => string;

  before(async () => {
    const [serveBlock] = shBlocks('A first webhook, with curl');
    const token = /^export HERALD_ADMIN_TOKEN=(\S+)$/m.exec(serveBlock!)?.[1];
    const networks = /^HERALD_ALLOW_NETWORKS=(\S+) npx herald serve$/m.exec(serveBlock!)?.[1];
    assert.ok(token && networks, `the serve terminal's block: ${serveBlock}`);
    herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: token, HERALD_ALLOW_NETWORKS: networks } });
    receiver = await startReceiver();
    localize = (script) =>
      script
        .replaceAll('http://127.0.0.1:8080', herald.url)
        .replaceAll('http://127.0.0.1:9000', receiver.url);
  });

  after(async () => {
    if (listen?.pid && listen.exitCode === null) process.kill(-listen.pid, 'SIGTERM');
    await herald?.dispose();
    await receiver?.close();
  });

  test('the curl walkthrough delivers a signed PurchasePlayerPurchase to /hooks, and herald listen forwards the next one to /local', async () => {
    const blocks = shBlocks('A first webhook, with curl');
    const third = blocks.find((b) => b.startsWith('H=http://127.0.0.1:8080'));
    assert.ok(third, "the third terminal's block starts with H=");
    // The script as one shell, then the key and event it made, for what follows.
    const script = `set -eu\n${localize(third)}\necho\necho "KEY=$KEY"\necho "EVENT=$EVENT"\n`;
    const run = await promisify(execFile)('bash', ['-c', script], {
      cwd: ROOT,
      env: { PATH, HOME: process.env.HOME ?? '/tmp' },
    });
    const key = /^KEY=(hk_\S+)$/m.exec(run.stdout)?.[1];
    const event = /^EVENT=(evt_\S+)$/m.exec(run.stdout)?.[1];
    assert.ok(key && event, run.stdout + run.stderr);
    assert.match(run.stdout, /"uid":"space-raiders"/);
    assert.match(run.stdout, /"secret":"whsec_/, 'the endpoint is answered with its signing secret');
    assert.match(
      run.stdout,
      new RegExp(`"id":"${event}".*"deliveries":\\[\\{`),
      'the event with its delivery',
    );
    // Read at once, the attempt may still be in flight: a page, perhaps empty, and not an error.
    assert.match(run.stdout, /\{"data":\[.*\],"nextCursor":null\}\n/, "the event's attempts");

    // "The receiver prints a POST /hooks with webhook-id, webhook-timestamp and webhook-signature
    // headers … and the body {"type":"PurchasePlayerPurchase","timestamp":…,"data":{…}}"
    const [first] = await receiver.waitFor(1, 10_000);
    assert.equal(first!.method, 'POST');
    assert.equal(first!.url, '/hooks');
    assert.equal(first!.headers['webhook-id'], event);
    assert.match(String(first!.headers['webhook-timestamp']), /^\d+$/);
    assert.match(String(first!.headers['webhook-signature']), /^v1,/);
    assert.match(first!.body, /^\{"type":"PurchasePlayerPurchase","timestamp":"[^"]+","data":\{.*\}\}$/);

    // Developing a receiver: the EP= line and the listen line, in the third terminal (H, AUTH, KEY).
    const [listenBlock] = shBlocks('Developing a receiver: `herald listen`');
    const variables = localize(third)
      .split('\n')
      .filter((line) => /^(H|ADMIN)=/.test(line))
      .join('\n');
    listen = spawn(
      'bash',
      [
        '-c',
        `set -eu\n${variables}\nKEY=${key}\nAUTH="Authorization: Bearer $KEY"\n${localize(listenBlock!)}`,
      ],
      {
        cwd: ROOT,
        // The CLI's default --url is the README's 8080: the test's Herald is elsewhere.
        env: { PATH, HOME: process.env.HOME ?? '/tmp', HERALD_URL: herald.url },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let said = '';
    listen.stdout!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    listen.stderr!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    const end = Date.now() + 30_000;
    while (!said.includes('forwarding new events') && Date.now() < end) {
      assert.equal(listen.exitCode, null, `herald listen ended: ${said}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(said, /forwarding new events of space-raiders/);

    // "Send another PurchasePlayerPurchase event … and the receiver prints it twice"
    const sent = await fetch(`${herald.url}/api/v1/projects/space-raiders/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'PurchasePlayerPurchase',
        payload: { playerId: 1820283, productId: 312 },
      }),
    });
    assert.equal(sent.status, 202);
    const second = ((await sent.json()) as { id: string }).id;
    const requests = await receiver.waitFor(3, 20_000);
    const copies = requests.filter((r) => r.headers['webhook-id'] === second);
    assert.deepEqual(copies.map((r) => r.url).sort(), ['/hooks', '/local']);
    // "both signed with the endpoint's secret"
    const endpoints = (await (
      await fetch(`${herald.url}/api/v1/projects/space-raiders/endpoints`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).json()) as { data: { id: string }[] };
    const secret = (
      (await (
        await fetch(`${herald.url}/api/v1/projects/space-raiders/endpoints/${endpoints.data[0]!.id}/secret`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json()) as { secret: string }
    ).secret;
    for (const copy of copies) {
      const payload = verify({
        scheme: 'standard',
        payload: copy.body,
        headers: copy.headers as Record<string, string>,
        secret,
      });
      assert.deepEqual(payload, JSON.parse(copy.body), copy.url);
    }
  });
});
