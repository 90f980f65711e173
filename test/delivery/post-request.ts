/** The request the sender tests send: a small signed-looking JSON POST. */
import type { SendRequest } from '../../src/delivery/send-types.ts';

export const post = (url: string, timeoutMs = 2_000): SendRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
  body: '{"a":1}',
  timeoutMs,
});
