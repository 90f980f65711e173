/**
 * HeraldClient's calls on a project's endpoints (client.ts): register and change them, their
 * secrets, test, enable, recover and replay, their history, what waits for them, their stats.
 */
import type { CallOptions } from './client-options.ts';
import { LIST, NO_CONTENT, SECRETS, WITH_ID } from './expected-answers.ts';
import { seg } from './path-segment.ts';
import { ProjectCalls } from './project-calls.ts';
import type {
  Attempt,
  AttemptQuery,
  Endpoint,
  EndpointDeliveriesPage,
  EndpointDeliveryQuery,
  EndpointInput,
  EndpointSecrets,
  Page,
  PageQuery,
  StatsBucket,
  StatsBucketSize,
  TestSent,
} from './types.ts';

export class EndpointCalls extends ProjectCalls {
  /** Registers an endpoint; the answer includes its `secret`. */
  createEndpoint(project: string, input: EndpointInput, call: CallOptions = {}): Promise<Endpoint> {
    return this.request('POST', `/projects/${seg(project)}/endpoints`, {
      signal: call.signal,
      body: input,
      expect: WITH_ID,
    });
  }
  listEndpoints(project: string, query: PageQuery = {}, call: CallOptions = {}): Promise<Page<Endpoint>> {
    return this.request('GET', `/projects/${seg(project)}/endpoints`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  getEndpoint(project: string, endpoint: string, call: CallOptions = {}): Promise<Endpoint> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }
  /** `resumed` is there when `active: true` re-enabled a disabled endpoint (as `enableEndpoint`). */
  updateEndpoint(
    project: string,
    endpoint: string,
    input: Partial<Omit<EndpointInput, 'secret'>>,
    call: CallOptions = {},
  ): Promise<Endpoint & { resumed?: number }> {
    return this.request('PATCH', `/projects/${seg(project)}/endpoints/${seg(endpoint)}`, {
      signal: call.signal,
      body: input,
      expect: WITH_ID,
    });
  }
  async deleteEndpoint(project: string, endpoint: string, call: CallOptions = {}): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/endpoints/${seg(endpoint)}`, {
      signal: call.signal,
      expect: NO_CONTENT,
    });
  }
  /** The endpoint with its signing secrets valid now, current first (`secret` is the current one). */
  getEndpointSecret(project: string, endpoint: string, call: CallOptions = {}): Promise<EndpointSecrets> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/secret`, {
      signal: call.signal,
      expect: SECRETS,
    });
  }
  /**
   * A new secret (`secret`: one you chose, e.g. one the receiver already accepts). The old one stays
   * valid for `graceSeconds`: `standard` and `stripe` sign with both meanwhile; `hmac-sha256`,
   * `github`, `sha256-body` and `hmac-sha1-url` sign with the new one only, at once.
   */
  rotateEndpointSecret(
    project: string,
    endpoint: string,
    options: { graceSeconds?: number | undefined; secret?: string | undefined } = {},
    call: CallOptions = {},
  ): Promise<EndpointSecrets> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/secret/rotate`, {
      signal: call.signal,
      body: options,
      expect: SECRETS,
    });
  }
  /** Sends a test event (the type's example payload) to this endpoint only. */
  testEndpoint(
    project: string,
    endpoint: string,
    eventType?: string,
    call: CallOptions = {},
  ): Promise<TestSent> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/test`, {
      signal: call.signal,
      body: eventType ? { eventType } : {},
      expect: { object: { eventId: 'string' } },
    });
  }
  /** Re-enables a disabled endpoint; its parked deliveries become due (`resumed` of them). */
  enableEndpoint(
    project: string,
    endpoint: string,
    call: CallOptions = {},
  ): Promise<Endpoint & { resumed: number }> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/enable`, {
      signal: call.signal,
      expect: WITH_ID,
    });
  }
  /**
   * Sends again every failed delivery of the endpoint in the time range, oldest first (`recovered` of
   * them). A request that runs out of time (about 20 s) stops and `nextSince` says where to go on
   * (recover again with it as `since`, same `until`); null when the range is done. A disabled
   * endpoint is refused (409 HERALD_ERR_ENDPOINT_DISABLED): enable it first.
   */
  recoverEndpoint(
    project: string,
    endpoint: string,
    range: { since: string | number; until?: string | number | undefined },
    call: CallOptions = {},
  ): Promise<{ recovered: number; nextSince: string | null }> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/recover`, {
      signal: call.signal,
      body: range,
      expect: { object: { recovered: 'number' } },
    });
  }
  /**
   * Sends the endpoint the events of the time range it has no delivery for (created before it, or
   * before its filter took their type; not test events): `replayed` new deliveries. Past the
   * server's per-request limit, or out of time (about 20 s), it stops and `nextSince` says where to
   * go on (replay again with it as `since`); null when the range is done. A disabled endpoint is refused (409
   * HERALD_ERR_ENDPOINT_DISABLED): enable it first.
   */
  replayEndpoint(
    project: string,
    endpoint: string,
    range: { since: string | number; until?: string | number | undefined },
    call: CallOptions = {},
  ): Promise<{ replayed: number; nextSince: string | null }> {
    return this.request('POST', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/replay`, {
      signal: call.signal,
      body: range,
      expect: { object: { replayed: 'number' } },
    });
  }
  /** The endpoint's delivery history, newest first. */
  listEndpointAttempts(
    project: string,
    endpoint: string,
    query: AttemptQuery = {},
    call: CallOptions = {},
  ): Promise<Page<Attempt>> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/attempts`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  /**
   * What waits for the endpoint: its pending deliveries (in flight ones included) in the order they
   * are due (`nextAttemptAt`, then id) or, with `status: 'parked'`, those parked while it is
   * disabled (`nextAttemptAt` null) in the order they were due then. The first page (no `cursor`) also has `counts` of both states, each
   * up to `counts.atMost` (a count equal to it means at least that many). Read live: a delivery
   * attempted or parked between two pages moves in the order.
   */
  listEndpointDeliveries(
    project: string,
    endpoint: string,
    query: EndpointDeliveryQuery = {},
    call: CallOptions = {},
  ): Promise<EndpointDeliveriesPage> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/deliveries`, {
      signal: call.signal,
      query: { ...query },
      expect: LIST,
    });
  }
  endpointStats(
    project: string,
    endpoint: string,
    query: {
      since?: string | number | undefined;
      until?: string | number | undefined;
      bucket?: StatsBucketSize | undefined;
    } = {},
    call: CallOptions = {},
  ): Promise<{ data: StatsBucket[]; bucketMs: number }> {
    return this.request('GET', `/projects/${seg(project)}/endpoints/${seg(endpoint)}/stats`, {
      signal: call.signal,
      query,
      expect: { object: { data: 'array', bucketMs: 'number' } },
    });
  }
}
