/**
 * The soak's client for Herald's API over one keep-alive undici Pool. It keeps, for the final
 * check, every answer ≥ 500 and every 4xx the caller did not expect, by route.
 */
import { Pool } from 'undici';
import { ADMIN_TOKEN } from './herald-process.ts';

export interface Answer {
  status: number;
  text: string;
}

export interface SoakApi {
  /** Any status resolves; a 5xx, or a 4xx not in `ok`, is also recorded. */
  request(method: string, path: string, body?: unknown, ok?: number[]): Promise<Answer>;
  /** `request`, then the body parsed; throws on a status ≥ 300. */
  json<T>(method: string, path: string, body?: unknown, ok?: number[]): Promise<T>;
  /** GET /metrics, the Prometheus text. */
  metrics(): Promise<string>;
  /** Answers ≥ 500, one line each. */
  readonly serverErrors: string[];
  /** Unexpected 4xx, and failures elsewhere in the run (management calls, samples) to report with them. */
  readonly unexpected: string[];
  close(): Promise<void>;
}

export function soakApi(url: string): SoakApi {
  const pool = new Pool(url, { connections: 16, keepAliveTimeout: 30_000 });
  const serverErrors: string[] = [];
  const unexpected: string[] = [];
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    ok: number[] = [],
  ): Promise<Answer> => {
    const res = await pool.request({
      method: method as 'GET',
      path,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    const line = `${method} ${path.split('?')[0]} → ${res.statusCode} ${text.slice(0, 200)}`;
    if (res.statusCode >= 500) serverErrors.push(line);
    else if (res.statusCode >= 400 && !ok.includes(res.statusCode)) unexpected.push(line);
    return { status: res.statusCode, text };
  };
  return {
    request,
    json: async <T>(method: string, path: string, body?: unknown, ok: number[] = []): Promise<T> => {
      const answer = await request(method, path, body, ok);
      if (answer.status >= 300)
        throw new Error(`${method} ${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
      return JSON.parse(answer.text) as T;
    },
    metrics: async () => (await request('GET', '/metrics')).text,
    serverErrors,
    unexpected,
    close: () => pool.close(),
  };
}
