/** One segment of a call's path (a project, endpoint or event id, an event type's name), encoded. */
export const seg = (s: string): string => encodeURIComponent(s);
