/** A small client for Herald's HTTP API over one keep-alive undici Pool. */
import { Pool } from 'undici';
import { nowMs } from './clock.ts';
import { heraldBatchBody, heraldEventJson } from './payload.ts';

export interface HeraldApi {
  /** JSON request; throws on a status ≥ 300 with the body in the message. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  createProject(name: string): Promise<string>;
  createEndpoint(projectId: string, url: string, extra?: Record<string, unknown>): Promise<string>;
  /** POST …/events/batch with `count` bench events numbered from `firstSeq`; resolves at the 202. */
  sendBatch(projectId: string, firstSeq: number, count: number, sentAt?: number): Promise<void>;
  /** POST …/events with one bench event; resolves with the 202's body length. */
  sendOne(projectId: string, seq: number, sentAt?: number): Promise<number>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export function heraldApi(baseUrl: string, token: string, connections = 16): HeraldApi {
  const pool = new Pool(baseUrl, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const raw = async (method: string, path: string, body?: string): Promise<string> => {
    const res = await pool.request({
      method: method as 'POST',
      path,
      headers: body === undefined ? { authorization: headers.authorization } : headers,
      body,
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 500)}`);
    return text;
  };

  const api: HeraldApi = {
    async call<T>(method: string, path: string, body?: unknown) {
      const text = await raw(method, path, body === undefined ? undefined : JSON.stringify(body));
      return (text === '' ? {} : JSON.parse(text)) as T;
    },
    async createProject(name) {
      return (await api.call<{ id: string }>('POST', '/api/v1/projects', { name })).id;
    },
    async createEndpoint(projectId, url, extra = {}) {
      const path = `/api/v1/projects/${projectId}/endpoints`;
      return (await api.call<{ id: string }>('POST', path, { url, ...extra })).id;
    },
    async sendBatch(projectId, firstSeq, count, sentAt = nowMs()) {
      await raw(
        'POST',
        `/api/v1/projects/${projectId}/events/batch`,
        heraldBatchBody(firstSeq, count, sentAt),
      );
    },
    async sendOne(projectId, seq, sentAt = nowMs()) {
      return (await raw('POST', `/api/v1/projects/${projectId}/events`, heraldEventJson(seq, sentAt))).length;
    },
    metrics: () => raw('GET', '/metrics'),
    close: () => pool.close(),
  };
  return api;
}
