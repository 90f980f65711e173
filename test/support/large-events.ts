import type { Store } from '../../src/store/store.ts';

/**
 * Accepts `count` distinct `big.event`s of about `payloadBytes` of payload each into the project
 * (straight into the store), and returns their deliveries. `tag` sets them apart between calls.
 */
export async function acceptLargeEvents(
  store: Store,
  projectId: string,
  count: number,
  payloadBytes: number,
  tag?: string,
) {
  const accepted = await store.acceptEvents(
    projectId,
    Array.from({ length: count }, (_, i) => ({
      type: 'big.event',
      payload: { ...(tag === undefined ? {} : { tag }), i, blob: 'x'.repeat(payloadBytes) },
      test: false,
      idempotencyKey: null,
      callbackUrl: null,
    })),
    Date.now(),
  );
  return accepted.flatMap((a) => a.deliveries);
}
