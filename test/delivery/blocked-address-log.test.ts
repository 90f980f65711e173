/**
 * A refused delivery is diagnosable in Herald's own log (blocked-address-log.ts) while its attempt
 * says no more than before. The resolver is a stub: the refused addresses are documentation-range
 * ones registered as this host's own (hostAddresses) and a metadata address written in the URL,
 * all refused before any dial; the only socket opened goes to a loopback receiver.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { after, describe, test } from 'node:test';
import { blockedAddressLog } from '../../src/delivery/blocked-address-log.ts';
import { createSender, type SenderOptions } from '../../src/delivery/sender.ts';
import { isAddressAllowed, parseCidr, parseIpLiteral } from '../../src/domain/address-classifier.ts';
import { post } from './post-request.ts';
import { startReceiver } from './receiver.ts';

const OWN_V4 = '203.0.113.7';
const OWN_V6 = '2001:db8::7';
const ANSWERS: Record<string, LookupAddress[]> = {
  'game.example.test': [{ address: OWN_V4, family: 4 }],
  'game6.example.test': [{ address: OWN_V6, family: 6 }],
  'mapped.example.test': [{ address: `::ffff:${OWN_V4}`, family: 6 }],
  'receiver.example.test': [{ address: '127.0.0.1', family: 4 }],
};
const lookup = async (hostname: string) => ANSWERS[hostname] ?? [];
const own = [parseIpLiteral(OWN_V4)!, parseIpLiteral(OWN_V6)!];

/** A sender whose warn lines are kept, under a clock the test moves. */
function logged(over: Partial<SenderOptions> = {}) {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const clock = { now: 1_000_000 };
  const sender = createSender({
    allowNetworks: [],
    maxResponseBytes: 65536,
    userAgent: 'test',
    lookup,
    hostAddresses: () => own,
    onBlocked: blockedAddressLog(
      { warn: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }) },
      10_000,
      () => clock.now,
    ),
    ...over,
  });
  return { sender, lines, clock };
}

describe("a refused delivery's line in Herald's log", () => {
  const closing: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closing) await close();
  });

  test("a name resolving to this host's own address: the line says which, why and the setting; the attempt does not", async () => {
    const { sender, lines } = logged();
    closing.push(() => sender.close());
    const result = await sender.send(post('http://game.example.test:27015/hook'));
    assert.deepEqual(result.error, {
      kind: 'blocked',
      message:
        'game.example.test resolves to an address that is not allowed (private, loopback or reserved; see HERALD_ALLOW_NETWORKS)',
    });
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const [line] = lines;
    assert.deepEqual(line!.fields, { host: 'game.example.test', address: OWN_V4, reason: 'own' });
    assert.match(line!.message, /game\.example\.test \(resolved to 203\.0\.113\.7\)/);
    assert.match(line!.message, /this host's own public address/);
    assert.match(line!.message, /HERALD_ALLOW_NETWORKS=203\.0\.113\.7\/32/);
    // The setting the line gives does open that address (judged only: nothing dials it).
    assert.ok(isAddressAllowed(OWN_V4, [parseCidr(`${OWN_V4}/32`)], own));

    const v6 = await sender.send(post('http://game6.example.test/hook'));
    assert.equal(v6.error?.kind, 'blocked');
    assert.doesNotMatch(v6.error!.message, /2001:db8/);

    // An IPv4-mapped answer is named by its IPv4 address, which an IPv4 entry opens.
    const mapped = logged();
    closing.push(() => mapped.sender.close());
    assert.equal((await mapped.sender.send(post('http://mapped.example.test/hook'))).error?.kind, 'blocked');
    assert.equal(mapped.lines[0]?.fields.address, OWN_V4);
    assert.match(mapped.lines[0]!.message, /HERALD_ALLOW_NETWORKS=203\.0\.113\.7\/32/);
  });

  test('at most one line per 10 s per reason, with the number refused in between', async () => {
    const { sender, lines, clock } = logged();
    closing.push(() => sender.close());
    for (let i = 0; i < 4; i++) {
      const result = await sender.send(post(`http://game${i % 2 === 0 ? '' : '6'}.example.test/hook`));
      assert.equal(result.error?.kind, 'blocked');
    }
    assert.equal(lines.length, 1, 'one line for four refusals of one reason');
    // Another reason is its own line at once: a metadata address written in the URL, under a
    // network that holds it (which never opens it).
    const { sender: wide, lines: wideLines } = logged({ allowNetworks: ['169.254.0.0/16'] });
    closing.push(() => wide.close());
    const metadata = await wide.send(post('http://169.254.169.254/latest/meta-data/'));
    assert.equal(
      metadata.error?.message,
      'address 169.254.169.254 is not allowed (private, loopback or reserved; see HERALD_ALLOW_NETWORKS)',
    );
    assert.equal(wideLines.length, 1);
    assert.equal(wideLines[0]!.fields.reason, 'metadata');
    assert.match(
      wideLines[0]!.message,
      /^delivery refused: 169\.254\.169\.254 is not allowed because it is a cloud instance metadata address/,
    );
    assert.match(
      wideLines[0]!.message,
      /naming that address alone opens it, HERALD_ALLOW_NETWORKS=169\.254\.169\.254\/32/,
    );

    clock.now += 9_999;
    await sender.send(post('http://game.example.test/hook'));
    assert.equal(lines.length, 1, 'still within the interval');
    clock.now += 1;
    const sixth = await sender.send(post('http://game6.example.test/hook'));
    assert.equal(sixth.error?.kind, 'blocked');
    assert.equal(lines.length, 2, 'the interval passed: the next refusal is logged');
    assert.deepEqual(lines[1]!.fields, {
      host: 'game6.example.test',
      address: OWN_V6,
      reason: 'own',
      refusedSinceLastLine: 4,
    });
    assert.match(lines[1]!.message, /HERALD_ALLOW_NETWORKS=2001:db8::7\/128/);
    assert.match(lines[1]!.message, /logged at most once per 10 s per reason/);
  });

  test('a delivery that goes through logs nothing', async () => {
    const receiver = await startReceiver();
    closing.push(() => receiver.close());
    const { sender, lines } = logged({ allowNetworks: ['127.0.0.1/32'] });
    closing.push(() => sender.close());
    const result = await sender.send(post(`http://receiver.example.test:${receiver.port}/hook`));
    assert.equal(result.error, null);
    assert.equal(result.response?.status, 200);
    assert.equal(receiver.requests.length, 1);
    assert.deepEqual(lines, []);
  });
});
