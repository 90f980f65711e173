import type { AttemptResponse, ErrorKind, HttpMethod } from '../domain/types.ts';

/** One HTTP request the sender makes. */
export interface SendRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  /** null for GET. */
  body: string | null;
  timeoutMs: number;
}

/** What came of one request: a response (any status) or an error, never both. */
export interface SendResult {
  startedAt: number;
  durationMs: number;
  response: AttemptResponse | null;
  error: { kind: ErrorKind; message: string } | null;
}

export type SendFn = (request: SendRequest) => Promise<SendResult>;
