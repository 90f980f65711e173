/** JSON Schemas of request bodies, params and queries (one file per resource in schemas/). */
export * from './schemas/common.ts';
export * from './schemas/endpoints.ts';
export * from './schemas/event-types.ts';
export * from './schemas/events.ts';
export * from './schemas/projects.ts';
