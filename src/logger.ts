import pino, { type DestinationStream, type Logger } from 'pino';
import { counted } from './domain/counted.ts';

export type { Logger } from 'pino';

/** Field names whose values never reach a log line, at any depth (pino paths, then `loggable`). */
const SENSITIVE_FIELDS = [
  'authorization',
  'Authorization',
  'cookie',
  'secret',
  'secrets',
  'key',
  'apiKey',
  'token',
  'adminToken',
  'password',
  'encryptionKey',
  '["x-api-key"]',
  '["set-cookie"]',
];

/** `secret`, `*.secret`, `*.*.secret`, `*.*.*.secret` for each field: requests log as req.headers.x. */
export const REDACT_PATHS: string[] = SENSITIVE_FIELDS.flatMap((field) => {
  const at = (prefix: string) => (field.startsWith('[') ? `${prefix}${field}` : `${prefix}.${field}`);
  return [field, at('*'), at('*.*'), at('*.*.*')];
});

export interface CreateLoggerOptions {
  level: string;
  /** Where lines go; stdout by default (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

/** SENSITIVE_FIELDS by lower-case name, for redaction at any depth (pino's paths stop at four). */
const SENSITIVE_NAMES = new Set(SENSITIVE_FIELDS.map((f) => f.replace(/^\["|"\]$/g, '').toLowerCase()));

/** Levels of a logged object written out; deeper ones become "[…]". */
const MAX_LOG_DEPTH = 8;

/**
 * A copy of a logged value that is safe to redact and write. Binary data (Buffers, typed arrays)
 * becomes "[binary data, N bytes]": it can hold raw request bytes, credentials included (Node's
 * HTTP parse errors carry the whole packet), and pino's wildcard redaction throws on it, which
 * turned a log line into a crash. Errors become plain objects (type, message, stack, cause, their
 * own fields); cycles and very deep nesting are cut; sensitive fields are redacted at every depth.
 */
export function loggable(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return `[binary data, ${counted(value.byteLength, 'bytes')}]`;
  }
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_LOG_DEPTH) return '[…]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => loggable(item, depth + 1, seen));
    if (value instanceof Error) {
      const copy: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack };
      for (const [k, v] of Object.entries(value)) copy[k] = field(k, v, depth, seen);
      if (value.cause !== undefined) copy.cause = loggable(value.cause, depth + 1, seen);
      return copy;
    }
    // Dates, URLs and the like say how they are written.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = field(k, v, depth, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

const field = (name: string, value: unknown, depth: number, seen: WeakSet<object>) =>
  SENSITIVE_NAMES.has(name.toLowerCase()) && value !== undefined
    ? '[redacted]'
    : loggable(value, depth + 1, seen);

/** Herald's logger: JSON lines (pino), with credentials replaced by "[redacted]" wherever they appear. */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'herald' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Runs before redaction: see `loggable`, which also writes errors (pino's own serializer would
      // take the copy for an error once more).
      formatters: { log: (object) => loggable(object) as Record<string, unknown> },
      serializers: { err: (error: unknown) => error },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
