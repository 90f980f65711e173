/**
 * Portal link tokens: a signed, expiring grant that lets a customer's browser act on one project
 * (the embeddable portal at /ui/portal). Pure functions; the server key is passed in.
 *
 * Format: `hpt_<base64url(JSON {projectId, exp, iat?, gen?, kid?})>.<base64url(HMAC-SHA256(key, "hpt_" + payload))>`,
 * `exp` in Unix seconds, `iat` the issue time in epoch milliseconds, `gen` the project's portal-link
 * generation when the link was made (each revocation of the project's links increments it; the API
 * refuses a link whose `gen` is lower than its project's, whatever the clocks of the processes say),
 * `kid` the id of the project API key that made the link (none when the admin token did): the API
 * refuses the link once that key is deleted. A token from before `gen` existed is judged by its
 * `iat` instead (refused if issued before the project's last revocation; one from before `iat`
 * existed reads as issued at 0). The token is not encrypted: the project id is not a secret, the
 * signature is what grants access. Stateless on purpose, so every Herald process sharing the key
 * accepts it; what ends a link early (its key deleted, its project's links revoked) is read from the
 * project's row by the API (src/api/auth.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Every portal token starts with this, so auth can tell it from API keys and the admin token. */
export const PORTAL_TOKEN_PREFIX = 'hpt_';

/** Longest token accepted: a real one is ~150 characters; anything much larger is junk. */
const MAX_TOKEN_LENGTH = 1024;

const SIGNATURE_BYTES = 32;

/** What a valid token grants. */
export interface PortalClaims {
  projectId: string;
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
  /** Issue time, epoch milliseconds; 0 for a token made before tokens carried it. */
  issuedAt: number;
  /**
   * The project's portal-link generation when the link was made; absent for a token made before
   * tokens carried it (auth then goes by `issuedAt`).
   */
  generation?: number;
  /** The project API key that made the link; absent when the admin token made it. */
  keyId?: string;
}

/** What a token is made from: without `issuedAt` it carries no `iat` and reads as issued at 0. */
export type PortalTokenInput = Omit<PortalClaims, 'issuedAt'> & { issuedAt?: number };

export type PortalTokenResult =
  | { ok: true; claims: PortalClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/**
 * The key that signs portal tokens, derived from a server secret (the admin token) with a fixed
 * label, so the admin token itself never signs anything and a new admin token revokes every link.
 */
export function derivePortalKey(serverSecret: string): Buffer {
  return createHmac('sha256', serverSecret).update('herald/portal-link-key/v1').digest();
}

/**
 * Signs a token for `projectId` valid until `expiresAt` (epoch ms, rounded down to the second),
 * issued at `issuedAt` (epoch ms, whole milliseconds), of the project's portal-link `generation`.
 */
export function createPortalToken(key: Uint8Array, claims: PortalTokenInput): string {
  const payload = Buffer.from(
    JSON.stringify({
      projectId: claims.projectId,
      exp: Math.floor(claims.expiresAt / 1000),
      ...(claims.issuedAt === undefined ? {} : { iat: Math.floor(claims.issuedAt) }),
      ...(claims.generation === undefined ? {} : { gen: claims.generation }),
      ...(claims.keyId === undefined ? {} : { kid: claims.keyId }),
    }),
  ).toString('base64url');
  return `${PORTAL_TOKEN_PREFIX}${payload}.${sign(key, payload).toString('base64url')}`;
}

/**
 * Checks the signature (constant time) before reading anything, then the expiry against `now`
 * (epoch ms). Never throws on bad input.
 */
export function verifyPortalToken(token: string, key: Uint8Array, now: number): PortalTokenResult {
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(PORTAL_TOKEN_PREFIX)) {
    return { ok: false, reason: 'malformed' };
  }
  const parts = token.slice(PORTAL_TOKEN_PREFIX.length).split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  if (!isBase64Url(payload) || !isBase64Url(signature)) return { ok: false, reason: 'malformed' };

  const presented = Buffer.from(signature, 'base64url');
  const expected = sign(key, payload);
  // Only the one spelling of the signature: the decoder ignores the last character's two spare
  // bits, so four spellings of every link were accepted. (Compares the caller's text with itself.)
  const canonical = presented.toString('base64url') === signature;
  if (!canonical || presented.length !== SIGNATURE_BYTES || !timingSafeEqual(presented, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }

  const claims = parseClaims(Buffer.from(payload, 'base64url').toString('utf8'));
  if (claims === null) return { ok: false, reason: 'malformed' };
  if (claims.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function sign(key: Uint8Array, payload: string): Buffer {
  return createHmac('sha256', key)
    .update(PORTAL_TOKEN_PREFIX + payload)
    .digest();
}

function isBase64Url(text: string): boolean {
  return text.length > 0 && /^[A-Za-z0-9_-]+$/.test(text);
}

function parseClaims(json: string): PortalClaims | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { projectId, exp, iat, gen, kid } = value as {
    projectId?: unknown;
    exp?: unknown;
    iat?: unknown;
    gen?: unknown;
    kid?: unknown;
  };
  if (typeof projectId !== 'string' || projectId.length === 0) return null;
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) return null;
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat < 0)) return null;
  if (gen !== undefined && (typeof gen !== 'number' || !Number.isSafeInteger(gen) || gen < 0)) return null;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) return null;
  return {
    projectId,
    expiresAt: exp * 1000,
    // A token made before tokens carried their issue time: issued at 0, so a revocation ends it.
    issuedAt: iat ?? 0,
    // A token made before tokens carried the generation has none: auth goes by its issue time.
    ...(gen === undefined ? {} : { generation: gen }),
    ...(kid === undefined ? {} : { keyId: kid }),
  };
}
