import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  createPortalToken,
  derivePortalKey,
  PORTAL_TOKEN_PREFIX,
  verifyPortalToken,
} from '../../src/dashboard/portal-token.ts';

const key = derivePortalKey('admin-token-for-tests-0123456789');
const now = Date.UTC(2030, 0, 1);

describe('portal tokens', () => {
  test('a fresh token verifies and carries its project, expiry (to the second) and issue time (to the ms)', () => {
    const token = createPortalToken(key, {
      projectId: 'prj_1',
      expiresAt: now + 3_600_500,
      issuedAt: now - 123,
    });
    assert.ok(token.startsWith(PORTAL_TOKEN_PREFIX));
    assert.deepEqual(verifyPortalToken(token, key, now), {
      ok: true,
      claims: { projectId: 'prj_1', expiresAt: now + 3_600_000, issuedAt: now - 123 },
    });
  });

  test('a token without an issue time (made before tokens carried one) reads as issued at 0', () => {
    const token = createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000 });
    const payload = JSON.parse(Buffer.from(token.slice(4).split('.')[0]!, 'base64url').toString('utf8'));
    assert.deepEqual(Object.keys(payload).sort(), ['exp', 'projectId']);
    assert.deepEqual(verifyPortalToken(token, key, now), {
      ok: true,
      claims: { projectId: 'prj_1', expiresAt: now + 60_000, issuedAt: 0 },
    });
    // Exactly the format of a token from before: signed JSON {projectId, exp}.
    const old = Buffer.from(JSON.stringify({ projectId: 'prj_1', exp: now / 1000 + 60 })).toString(
      'base64url',
    );
    const sig = createHmac('sha256', key).update(`hpt_${old}`).digest('base64url');
    assert.deepEqual(verifyPortalToken(`hpt_${old}.${sig}`, key, now), {
      ok: true,
      claims: { projectId: 'prj_1', expiresAt: now + 60_000, issuedAt: 0 },
    });
  });

  test('changing the issue time breaks the signature (a revoked link cannot be made to look newer)', () => {
    const token = createPortalToken(key, {
      projectId: 'prj_1',
      expiresAt: now + 60_000,
      issuedAt: now - 5000,
    });
    const signature = token.split('.')[1];
    const forged = Buffer.from(
      JSON.stringify({ projectId: 'prj_1', exp: now / 1000 + 60, iat: now }),
    ).toString('base64url');
    assert.deepEqual(verifyPortalToken(`${PORTAL_TOKEN_PREFIX}${forged}.${signature}`, key, now), {
      ok: false,
      reason: 'bad-signature',
    });
  });

  test("a token carries its project's portal-link generation (gen); one made before tokens carried it has none", () => {
    const token = createPortalToken(key, {
      projectId: 'prj_1',
      expiresAt: now + 60_000,
      issuedAt: now,
      generation: 3,
    });
    const payload = JSON.parse(Buffer.from(token.slice(4).split('.')[0]!, 'base64url').toString('utf8'));
    assert.equal(payload.gen, 3);
    assert.deepEqual(verifyPortalToken(token, key, now), {
      ok: true,
      claims: { projectId: 'prj_1', expiresAt: now + 60_000, issuedAt: now, generation: 3 },
    });
    assert.deepEqual(
      verifyPortalToken(
        createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000, generation: 0 }),
        key,
        now,
      ),
      { ok: true, claims: { projectId: 'prj_1', expiresAt: now + 60_000, issuedAt: 0, generation: 0 } },
    );
    // A token of the format before (iat, no gen) verifies, without a generation.
    const old = Buffer.from(JSON.stringify({ projectId: 'prj_1', exp: now / 1000 + 60, iat: now })).toString(
      'base64url',
    );
    const sig = createHmac('sha256', key).update(`hpt_${old}`).digest('base64url');
    const claims = verifyPortalToken(`hpt_${old}.${sig}`, key, now);
    assert.deepEqual(claims, {
      ok: true,
      claims: { projectId: 'prj_1', expiresAt: now + 60_000, issuedAt: now },
    });
    // Changing the generation breaks the signature (a revoked link cannot be made to look newer).
    const forged = Buffer.from(JSON.stringify({ ...payload, gen: 4 })).toString('base64url');
    assert.deepEqual(verifyPortalToken(`hpt_${forged}.${token.split('.')[1]}`, key, now), {
      ok: false,
      reason: 'bad-signature',
    });
  });

  test('a token made with a project API key carries the key id; one made by the admin none', () => {
    const byKey = createPortalToken(key, {
      projectId: 'prj_1',
      expiresAt: now + 60_000,
      issuedAt: now,
      keyId: 'key_1',
    });
    assert.deepEqual(verifyPortalToken(byKey, key, now), {
      ok: true,
      claims: { projectId: 'prj_1', expiresAt: now + 60_000, issuedAt: now, keyId: 'key_1' },
    });
    const byAdmin = createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000 });
    const claims = verifyPortalToken(byAdmin, key, now);
    assert.equal(claims.ok && 'keyId' in claims.claims, false);
  });

  test('an expired token is refused, at and after its expiry', () => {
    const token = createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000 });
    assert.equal(verifyPortalToken(token, key, now + 59_999).ok, true);
    assert.deepEqual(verifyPortalToken(token, key, now + 60_000), { ok: false, reason: 'expired' });
    assert.deepEqual(verifyPortalToken(token, key, now + 120_000), { ok: false, reason: 'expired' });
  });

  test('a token signed with another key is refused', () => {
    const other = derivePortalKey('a-different-admin-token-000000');
    const token = createPortalToken(other, { projectId: 'prj_1', expiresAt: now + 60_000 });
    assert.deepEqual(verifyPortalToken(token, key, now), { ok: false, reason: 'bad-signature' });
  });

  test('changing the payload (another project, later expiry) breaks the signature', () => {
    const token = createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000 });
    const signature = token.split('.')[1];
    const forged = Buffer.from(JSON.stringify({ projectId: 'prj_2', exp: now / 1000 + 60 })).toString(
      'base64url',
    );
    assert.deepEqual(verifyPortalToken(`${PORTAL_TOKEN_PREFIX}${forged}.${signature}`, key, now), {
      ok: false,
      reason: 'bad-signature',
    });
  });

  test('a flipped signature character is refused', () => {
    const token = createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000 });
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = token.slice(0, -2) + last + token.at(-1);
    assert.equal(verifyPortalToken(tampered, key, now).ok, false);
  });

  test('only the exact signature is accepted: the spare bits of its last character are not ignored', () => {
    const token = createPortalToken(key, { projectId: 'prj_1', expiresAt: now + 60_000 });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes are 43 characters: the last carries 4 bits of the signature and 2 spare (zero) ones.
    const last = alphabet.indexOf(token.at(-1)!);
    for (const spare of [1, 2, 3]) {
      const respelt = token.slice(0, -1) + alphabet[last | spare];
      assert.deepEqual(verifyPortalToken(respelt, key, now), { ok: false, reason: 'bad-signature' }, respelt);
    }
    assert.equal(verifyPortalToken(token, key, now).ok, true);
  });

  test('malformed input is refused without throwing', () => {
    for (const bad of [
      '',
      'hpt_',
      'hpt_abc',
      'hpt_a.b.c',
      'hk_abc.def',
      'hpt_!!!.???',
      `hpt_${'a'.repeat(2000)}.b`,
      'Bearer hpt_x.y',
    ]) {
      const result = verifyPortalToken(bad, key, now);
      assert.equal(result.ok, false, bad);
    }
  });

  test('a correctly signed payload that is not valid claims is malformed', () => {
    // Sign junk with the real key by reproducing the signing input, to reach the claims check.
    for (const claims of [
      { projectId: 1, exp: 1 },
      { projectId: 'p' },
      [],
      'x',
      { projectId: 'p', exp: 2_000_000_000, kid: 7 },
      { projectId: 'p', exp: 2_000_000_000, kid: '' },
      { projectId: 'p', exp: 2_000_000_000, iat: '1' },
      { projectId: 'p', exp: 2_000_000_000, iat: 1.5 },
      { projectId: 'p', exp: 2_000_000_000, iat: -1 },
      { projectId: 'p', exp: 2_000_000_000, iat: null },
      { projectId: 'p', exp: 2_000_000_000, gen: '1' },
      { projectId: 'p', exp: 2_000_000_000, gen: 1.5 },
      { projectId: 'p', exp: 2_000_000_000, gen: -1 },
      { projectId: 'p', exp: 2_000_000_000, gen: null },
    ]) {
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const sig = createHmac('sha256', key).update(`hpt_${payload}`).digest('base64url');
      assert.deepEqual(verifyPortalToken(`hpt_${payload}.${sig}`, key, now), {
        ok: false,
        reason: 'malformed',
      });
    }
  });

  test('the derived key depends on the server secret', () => {
    assert.notDeepEqual(derivePortalKey('one-secret-0000000000'), derivePortalKey('two-secret-0000000000'));
    assert.equal(derivePortalKey('x').length, 32);
  });
});
