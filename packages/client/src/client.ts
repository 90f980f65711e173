/**
 * A client for Herald's HTTP API v1 (DESIGN.md), on an undici Pool: keep-alive connections to one
 * Herald, JSON in and out, a `HeraldApiError` for every answer that is not 2xx. One client per
 * Herald URL and token; `close()` when done.
 *
 * Its calls are in one file per resource group, each a class extending the one before (the order
 * says nothing): client-base.ts (the connection, `request`, `close`, sending events) <- event-calls.ts
 * <- project-calls.ts <- endpoint-calls.ts <- this file (event types, the installation).
 */
import type { CallOptions } from './client-options.ts';
import { EndpointCalls } from './endpoint-calls.ts';
import { INSTALLATION, LIST_BY_NAME, WITH_NAME } from './expected-answers.ts';
import { seg } from './path-segment.ts';
import type { EventType, EventTypeInput, Installation, Page, PageQuery } from './types.ts';

export class HeraldClient extends EndpointCalls {
  // ── event types ────────────────────────────────────────────────────────
  putEventType(name: string, input: EventTypeInput, call: CallOptions = {}): Promise<EventType> {
    return this.request('PUT', `/event-types/${seg(name)}`, {
      signal: call.signal,
      body: input,
      expect: WITH_NAME,
    });
  }
  listEventTypes(query: PageQuery = {}, call: CallOptions = {}): Promise<Page<EventType>> {
    return this.request('GET', '/event-types', {
      signal: call.signal,
      query: { ...query },
      expect: LIST_BY_NAME,
    });
  }
  getEventType(name: string, call: CallOptions = {}): Promise<EventType> {
    return this.request('GET', `/event-types/${seg(name)}`, { signal: call.signal, expect: WITH_NAME });
  }

  // ── installation ───────────────────────────────────────────────────────
  /**
   * This installation's settings: timeout default and maximum, default retry schedule, and the
   * largest request body (`requests.maxBodyBytes`, this client's `maxBodyBytes` option to give).
   */
  getInstallation(call: CallOptions = {}): Promise<Installation> {
    return this.request('GET', '/installation', { signal: call.signal, expect: INSTALLATION });
  }
}
