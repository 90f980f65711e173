import type { AttemptResponse, ErrorKind, HttpMethod } from '../domain/types.ts';

/** One HTTP request the sender makes. */
export interface SendRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  /** null for GET. */
  body: string | null;
  timeoutMs: number;
  /**
   * Time this thread's event loop could not run during the attempt (loop-stalls.ts) that is left
   * out of `timeoutMs`, up to this much: what is left of the claim's lease past the timeout and its
   * margin (send-attempt.ts). Unset or 0: the timeout is wall time.
   */
  stallAllowanceMs?: number;
  /**
   * Whose connections to use (the endpoint's id): each endpoint has pools of its own, so endpoints
   * that share a host and port do not queue behind each other's slow requests. Unset: the origin's.
   */
  poolKey?: string;
}

/** What came of one request: a response (any status) or an error, never both. */
export interface SendResult {
  startedAt: number;
  durationMs: number;
  /**
   * The request's headers as they go on the wire: `host` and `connection` first, then the request's
   * own (with the `user-agent` the sender adds when there is none), `content-length` last when there
   * is one. Absent when the URL could not be parsed (nothing could be sent).
   */
  requestHeaders?: Record<string, string>;
  response: AttemptResponse | null;
  error: { kind: ErrorKind; message: string } | null;
  /**
   * The attempt failed in this installation before it reached the receiver, with this code (EMFILE,
   * ENFILE, ENOBUFS, ENOMEM: out of file descriptors or memory; HERALD_ERR_PROXY: the delivery proxy
   * unreachable or refusing, proxy-connector.ts). The dispatcher hands the delivery
   * back without an attempt (send-attempt.ts onLocalFailure); recorded anyway, it does not count
   * against the endpoint (attempt-outcome.ts).
   */
  local?: string;
  /**
   * Not sent: this installation refused the request before anything went out (a timeout or
   * allowance its deadline cannot keep, sender.ts attemptDeadline). Recorded (kind `internal`,
   * retried on its schedule, so it is seen and ends), but, as `local`, not counted against the
   * endpoint (attempt-outcome.ts): until 2026-12-07 such refusals counted as the receiver's failures
   * and disabled its endpoint at the threshold, though it was never asked anything.
   */
  unsent?: true;
}

export type SendFn = (request: SendRequest) => Promise<SendResult>;
