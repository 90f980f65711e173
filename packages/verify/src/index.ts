/**
 * @herald/verify — verify (and sign) Herald webhooks in every scheme Herald sends. Zero runtime
 * dependencies; framework adapters live in `@herald/verify/{node,express,fastify,fetch}`.
 */
export { bytesToBase64, constantTimeEqual, utf8ToBase64 } from './encoding.ts';
export {
  type SignErrorCode,
  type VerifyErrorCode,
  WebhookSigningError,
  WebhookVerificationError,
} from './errors.ts';
export {
  appendQuery,
  canonicalUrl,
  type Fields,
  formEncode,
  parseForm,
  sha1UrlSigningString,
  topLevelFields,
} from './form.ts';
export { readHeader } from './headers.ts';
export {
  createDeduplicator,
  type Deduplicator,
  type DeduplicatorOptions,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
  type OnceResult,
} from './idempotency.ts';
export { nodeHash } from './node-hash.ts';
export { isRequestHeader } from './request-headers.ts';
export { GITHUB_SIGNATURE_HEADER } from './schemes/github.ts';
export { HMAC_SHA1_URL_DEFAULT_SIGNATURE_HEADER } from './schemes/hmac-sha1-url.ts';
export {
  HMAC_SHA256_DEFAULT_SIGNATURE_HEADER,
  HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER,
} from './schemes/hmac-sha256.ts';
export { SCHEMES, schemeByName } from './schemes/index.ts';
export type { BodyFormat, Scheme } from './schemes/scheme.ts';
export { STRIPE_SIGNATURE_HEADER } from './schemes/stripe.ts';
export { STANDARD_SECRET_PREFIX, standardSecretKey } from './secret-key.ts';
export {
  type SignatureConfigIssue,
  type SignedRequest,
  type SignInput,
  sign,
  signatureConfigIssue,
  signatureConfigProblem,
  signatureHeaderProblem,
} from './sign.ts';
export {
  type HashProvider,
  type HeaderSource,
  type HttpMethod,
  type SchemeOptions,
  SIGNATURE_SCHEMES,
  type SignatureScheme,
} from './types.ts';
export {
  DEFAULT_TOLERANCE_SECONDS,
  type VerifiedWebhook,
  type VerifyInput,
  verify,
  verifyWebhook,
} from './verify.ts';
