/**
 * @herald/client: Herald's HTTP API from TypeScript. Send events, manage projects and endpoints,
 * read the delivery history. See README.md.
 */
export type { AnswerShape, FieldType } from './answer-shape.ts';
export { HeraldClient, type HeraldClientOptions, paginate } from './client.ts';
export {
  HeraldApiError,
  HeraldEventTooLargeError,
  HeraldNetworkError,
  HeraldResponseError,
} from './errors.ts';
export type * from './types.ts';
