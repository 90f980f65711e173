/**
 * @herald/client: Herald's HTTP API from TypeScript. Send events, manage projects and endpoints,
 * read the delivery history. See README.md.
 */
export type { AnswerShape, FieldType } from './answer-shape.ts';
export { withIdempotencyKey } from './auto-idempotency-key.ts';
export { HeraldClient } from './client.ts';
export type { CallOptions, HeraldClientOptions } from './client-options.ts';
export {
  HeraldApiError,
  HeraldEventTooLargeError,
  HeraldNetworkError,
  HeraldResponseError,
  type NetworkErrorCode,
} from './errors.ts';
export { paginate } from './paginate.ts';
export type * from './types.ts';
