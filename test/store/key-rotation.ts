/**
 * Encryption key rotation, the same for every backend: secrets stored in plaintext (no key yet)
 * or sealed with a key being rotated out are read, then sealed again with the current key, after
 * which the old key is no longer needed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, T0 } from './helpers.ts';

export function defineKeyRotationTest(name: string, newDatabaseUrl: () => Promise<string>): void {
  test(`${name}: key rotation — plaintext and previous-key secrets are resealed with the current key`, async () => {
    const url = await newDatabaseUrl();
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('hex');
    const open = (encryptionKey: string | null, previousEncryptionKeys: string[] = []) =>
      openStore(url, { encryptionKey, previousEncryptionKeys });
    const secretsOf = async (store: Awaited<ReturnType<typeof open>>, ids: { p: string; e: string }[]) =>
      Promise.all(ids.map(async ({ p, e }) => (await store.getEndpointSecrets(p, e, T0))[0]?.secret));

    const plain = await open(null);
    const project = await plain.createProject({ name: 'rotation' }, T0);
    const first = await plain.createEndpoint(
      endpointInput(project.id),
      'whsec_Zmlyc3Qtc2VjcmV0LWJ5dGVzLTAxMjM0NTY3',
      T0,
    );
    await plain.close();
    const ids = [{ p: project.id, e: first.id }];

    const a = await open(keyA);
    assert.deepEqual(
      await secretsOf(a, ids),
      ['whsec_Zmlyc3Qtc2VjcmV0LWJ5dGVzLTAxMjM0NTY3'],
      'plaintext still reads',
    );
    assert.equal(await a.resealSecrets(), 1, 'the plaintext secret is sealed');
    assert.equal(await a.resealSecrets(), 0);
    const second = await a.createEndpoint(
      endpointInput(project.id),
      'whsec_c2Vjb25kLXNlY3JldC1ieXRlcy0wMTIzNDU2',
      T0,
    );
    ids.push({ p: project.id, e: second.id });
    await a.close();

    const rotating = await open(keyB, [keyA]);
    const expected = [
      'whsec_Zmlyc3Qtc2VjcmV0LWJ5dGVzLTAxMjM0NTY3',
      'whsec_c2Vjb25kLXNlY3JldC1ieXRlcy0wMTIzNDU2',
    ];
    assert.deepEqual(await secretsOf(rotating, ids), expected, 'secrets under the previous key still read');
    assert.equal(await rotating.resealSecrets(), 2);
    await rotating.close();

    const after = await open(keyB);
    assert.deepEqual(await secretsOf(after, ids), expected, 'the previous key is no longer needed');
    assert.equal(await after.resealSecrets(), 0);
    await after.close();

    const wrong = await open(keyA);
    await assert.rejects(() => wrong.getEndpointSecrets(project.id, first.id, T0), /HERALD_ENCRYPTION_KEY/);
    await wrong.close();
  });
}
