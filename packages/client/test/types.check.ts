/**
 * Type-level checks of @herald/client, compiled by `npm run typecheck` (tsc --noEmit over
 * packages/*\/test) and never run: each line fails to compile if a method's types regress.
 */
import type {
  ApiKey,
  ApiKeyScope,
  ApiKeyWithSecret,
  CallOptions,
  DeliveryState,
  EndpointDeliveriesPage,
  EndpointSecret,
  EventInput,
  HeraldClient,
  Installation,
  OperationalEvent,
  PortalLink,
  TestSent,
} from '../src/index.ts';

interface Purchase {
  playerId: number;
  productId: string;
  note?: string;
}

export async function typeChecks(client: HeraldClient, purchase: Purchase): Promise<void> {
  // A payload typed with an interface (no index signature) is accepted, one or many.
  await client.sendEvent('p', { type: 'player.purchase', payload: purchase });
  const typed: EventInput<Purchase>[] = [{ type: 'player.purchase', payload: purchase }];
  await client.sendEvents('p', typed);
  await client.putEventType('player.purchase', { example: purchase });
  // A JSON Schema is an object (one typed with an interface too) or a boolean; null clears it.
  const schema: { type: string; required: string[] } = { type: 'object', required: ['playerId'] };
  await client.putEventType('player.purchase', { schema });
  await client.putEventType('player.purchase', { schema: true });
  await client.putEventType('player.purchase', { schema: null });
  // @ts-expect-error: a string is not a JSON Schema (Herald answers 400 body.schema).
  await client.putEventType('player.purchase', { schema: 'object' });
  // @ts-expect-error: an array is not a JSON Schema either (400 body.schema), nor a read-only one.
  await client.putEventType('player.purchase', { schema: [{ type: 'object' }] });
  const listed: readonly string[] = ['object'];
  // @ts-expect-error: an array is not a JSON Schema either (400 body.schema), nor a read-only one.
  await client.putEventType('player.purchase', { schema: listed });
  const loose: Record<string, unknown> = { type: 'object' };
  await client.putEventType('player.purchase', { schema: loose });

  const delivery: DeliveryState = await client.retryDelivery('p', 'dlv_1');
  const eventId: string = delivery.eventId;
  const read: DeliveryState = await client.getDelivery('p', 'dlv_1');
  const inFlight: boolean = read.inFlight;
  const failed: DeliveryState[] = (
    await client.listEventDeliveries('p', 'evt_1', { status: 'failed', limit: 100 })
  ).data;
  // @ts-expect-error: a delivery's status is one of four.
  await client.listEventDeliveries('p', 'evt_1', { status: 'done' });
  const waiting: EndpointDeliveriesPage = await client.listEndpointDeliveries('p', 'ep_1', {
    status: 'parked',
    limit: 10,
  });
  const atLeast: number | undefined = waiting.counts?.atMost;
  // @ts-expect-error: what waits is pending or parked, never failed.
  await client.listEndpointDeliveries('p', 'ep_1', { status: 'failed' });
  const sent: TestSent = await client.testEndpoint('p', 'ep_1');
  const ids: [string, string, string] = [sent.eventId, sent.deliveryId, sent.eventType];
  const secrets: EndpointSecret[] = (await client.getEndpointSecret('p', 'ep_1')).secrets;
  const expires: string | null | undefined = (await client.rotateEndpointSecret('p', 'ep_1')).secrets[0]
    ?.expiresAt;
  const key: ApiKeyWithSecret = await client.createApiKey('p', 'ci');
  const producer: ApiKeyScope = (await client.createApiKey('p', 'producer', { scope: 'send' })).scope;
  // @ts-expect-error: a scope is full, send or read.
  await client.createApiKey('p', 'x', { scope: 'admin' });
  const keys: ApiKey[] = (await client.listApiKeys('p')).data;
  const ops: OperationalEvent[] = (await client.listOperationalEvents('p', { limit: 10 })).data;
  await client.listOperationalEvents('p', { type: 'delivery.exhausted' });
  // @ts-expect-error: an operational event type is one of the three Herald reports.
  await client.listOperationalEvents('p', { type: 'endpoint.deleted' });
  await client.listOperationalEvents('p', { endpoint: 'ep_1', type: 'endpoint.disabled', limit: 5 });
  // @ts-expect-error: an endpoint is named by its id, a string.
  await client.listOperationalEvents('p', { endpoint: 1 });
  const link: PortalLink = await client.createPortalLink('p', { expiresIn: 60 });
  await client.deleteApiKey('p', key.id);
  await client.revokePortalLinks('p');
  // One call's own signal, as every method's last argument (after its optional ones).
  const call: CallOptions = { signal: AbortSignal.timeout(1000) };
  await client.listProjects({}, call);
  await client.sendEvents('p', typed, { signal: new AbortController().signal });
  await client.testEndpoint('p', 'ep_1', undefined, call);
  await client.request('GET', '/projects', { signal: AbortSignal.abort() });
  // @ts-expect-error: a signal is an AbortSignal, not a timeout in ms (that is timeoutMs).
  await client.getInstallation({ signal: 1000 });
  const installation: Installation = await client.getInstallation(call);
  const schedule: number[] = installation.delivery.retrySchedule;
  // @ts-expect-error: a secret is a string, not a number.
  const wrong: number = secrets[0]?.secret ?? 0;
  void [eventId, inFlight, failed, atLeast, ids, expires, keys, producer, ops, link, schedule, wrong];
}
