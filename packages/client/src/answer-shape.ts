/**
 * What a 2xx answer of Herald must look like for a caller to read it: a cheap check of the fields
 * callers rely on (an object's id, a list's `data` array), not a validation of every field. It
 * tells Herald's answer from another server's JSON at the same URL (`{"status": "ok"}`, `200`,
 * another API's list), which would otherwise reach the caller typed as Herald's.
 */

/** The JSON type a field must have. */
export type FieldType = 'string' | 'number' | 'array' | 'object';

/**
 * `{object: {id: 'string'}}`: an object whose `id` is a string; `{list: 'id'}`: a page
 * `{data: [...], nextCursor?}` whose items are objects with a string `id`; `{noContent: true}`: 204
 * with no body, as every DELETE of Herald answers (another server's 200 `{"ok": true}` is not it).
 */
export type AnswerShape = { object: Record<string, FieldType> } | { list: string } | { noContent: true };

/** What `shape` expects, in words, when a 2xx `status` with `value` does not fit it; null when it does. */
export function shapeMismatch(shape: AnswerShape, value: unknown, status: number): string | null {
  if ('noContent' in shape) return status === 204 && value === undefined ? null : 'no content (204)';
  if ('list' in shape) {
    const fits =
      isObject(value) &&
      Array.isArray(value.data) &&
      value.data.every((item) => isObject(item) && typeof item[shape.list] === 'string') &&
      (value.nextCursor === undefined || value.nextCursor === null || typeof value.nextCursor === 'string');
    return fits ? null : `a list {"data": [...]} of objects with "${shape.list}" (string)`;
  }
  const fields = Object.entries(shape.object);
  if (isObject(value) && fields.every(([name, type]) => hasType(value[name], type))) return null;
  return `an object with ${fields.map(([name, type]) => `"${name}" (${type})`).join(', ')}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function hasType(value: unknown, type: FieldType): boolean {
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return isObject(value);
  return typeof value === type;
}
