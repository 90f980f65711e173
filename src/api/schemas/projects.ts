/** Request schemas of /api/v1/projects and /api/v1/projects/:project/api-keys. */
import { API_KEY_SCOPES } from '../../domain/types.ts';
import { LIMITS, nameString, retryScheduleSchema } from './common.ts';

export const projectBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: nameString,
    uid: {
      type: ['string', 'null'],
      minLength: 1,
      maxLength: LIMITS.idLength,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
    },
    retrySchedule: retryScheduleSchema,
    enforceCatalog: { type: 'boolean' },
    // Admin token only (routes/projects.ts): null: the installation's HERALD_PROJECT_BACKLOG_LIMIT.
    backlogLimit: { type: ['integer', 'null'], minimum: 0, maximum: LIMITS.backlogLimit },
  },
} as const;

export const createProjectBody = { ...projectBody, required: ['name'] } as const;

/**
 * PATCH: every field optional, so no body (or an empty one, or null) is `{}`, a change of nothing,
 * as on every route whose body has no required field (docs/api.md "Limits", Body).
 */
export const projectPatchBody = { ...projectBody, type: ['object', 'null'] } as const;

export const apiKeyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: nameString,
    // What the key may do (src/api/key-scope.ts); fixed once made. Default full.
    scope: { type: 'string', enum: [...API_KEY_SCOPES] },
  },
} as const;
