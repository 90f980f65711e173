/**
 * Vocabulary shared by signing and verification. Plain types, no behaviour: the server's own
 * `SignatureConfig` (src/domain/types.ts) is structurally the same, so it can be passed as is.
 */

/** Every signature scheme Herald can send (DESIGN.md "Signature schemes"). */
export type SignatureScheme =
  | 'standard'
  | 'hmac-sha256'
  | 'stripe'
  | 'github'
  | 'sha256-body'
  | 'hmac-sha1-url'
  | 'none';

/** All scheme names, in the order DESIGN.md lists them. */
export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = [
  'standard',
  'hmac-sha256',
  'stripe',
  'github',
  'sha256-body',
  'hmac-sha1-url',
  'none',
];

/** Options that live beside the scheme name; each scheme reads only the ones it has. */
export interface SchemeOptions {
  /** Header carrying the signature (`hmac-sha256`, `hmac-sha1-url`, `github`, `stripe`). */
  signatureHeader?: string | undefined;
  /** Header carrying the Unix-seconds timestamp (`hmac-sha256`). */
  timestampHeader?: string | undefined;
  /** Digest encoding (`hmac-sha256`): `hex` (default) or `base64`. */
  encoding?: 'hex' | 'base64' | undefined;
  /** Static HMAC key used instead of the secret (`hmac-sha1-url`, e.g. a PushPushGo project id). */
  key?: string | undefined;
}

export type HttpMethod = 'POST' | 'PUT' | 'PATCH' | 'GET';

/**
 * Where request headers come from: a Fetch `Headers`, Node's `IncomingHttpHeaders`, or any plain
 * record. Names are matched case-insensitively.
 */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The few hash primitives the schemes need, synchronous so the server can sign on its hot path
 * without a promise per request. Strings are hashed as UTF-8. The default implementation uses
 * `node:crypto` (Node, Bun, Deno, Workers with nodejs_compat), which the package imports when it
 * loads: a provider of your own replaces the hashing, not that import (README, "Runtimes").
 */
export interface HashProvider {
  /** HMAC of the concatenated parts with `key` (a string key means its UTF-8 bytes). */
  hmac(
    algorithm: 'sha1' | 'sha256',
    key: string | Uint8Array,
    parts: readonly (string | Uint8Array)[],
    encoding: 'hex' | 'base64',
  ): string;
  /** SHA-256 of the concatenated parts. */
  sha256(parts: readonly (string | Uint8Array)[], encoding: 'hex' | 'base64'): string;
}
