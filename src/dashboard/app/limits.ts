/**
 * The API's limits on what the dashboard's inputs send (docs/api.md "Limits", src/api/schemas/common.ts),
 * set as their maxlength so that the browser takes no more than the server accepts.
 */
export const LIMITS = {
  /** Names (endpoints, projects, API keys), event types, project uids. */
  name: 200,
  description: 2000,
  url: 2048,
  /** Custom header names, and the signature and timestamp header names. */
  headerName: 100,
  headerValue: 4096,
  secret: 1024,
  signatureKey: 512,
} as const;
