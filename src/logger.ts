import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Field names whose values never reach a log line, at any of the first few levels of nesting. */
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

/** Herald's logger: JSON lines (pino), with credentials replaced by "[redacted]" wherever they appear. */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'herald' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
