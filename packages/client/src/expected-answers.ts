/**
 * What each answer must hold for a caller to read it (answer-shape.ts): its id, or a list's `data`.
 */
import type { AnswerShape } from './answer-shape.ts';

/** Projects, endpoints, events, attempts, deliveries. */
export const WITH_ID: AnswerShape = { object: { id: 'string' } };
/** Event types. */
export const WITH_NAME: AnswerShape = { object: { name: 'string' } };
/** Pages of objects with an id. */
export const LIST: AnswerShape = { list: 'id' };
export const LIST_BY_NAME: AnswerShape = { list: 'name' };
/** Deletes and revocations: 204, no body. */
export const NO_CONTENT: AnswerShape = { noContent: true };
/** An endpoint's secrets, the current one first. */
export const SECRETS: AnswerShape = { object: { secret: 'string', secrets: 'array' } };
/** The installation's settings. */
export const INSTALLATION: AnswerShape = { object: { delivery: 'object' } };
