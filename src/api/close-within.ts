/**
 * A server's close with a bound. Fastify's close waits for every request in progress, and once the
 * server closes Node stops checking its request and headers timeouts: a client sending its body a
 * byte at a time would hold the stop as long as it likes (92 s for a 100-byte body at a byte a
 * second), past any supervisor's SIGKILL, the deliveries meanwhile still being claimed and sent.
 */
import type { FastifyInstance } from 'fastify';

/**
 * Closes `app`, and if requests are still in progress after `withinMs`, cuts their connections
 * (`onCut` is told first) and returns once the server has closed.
 */
export async function closeWithin(app: FastifyInstance, withinMs: number, onCut: () => void): Promise<void> {
  const closed = app.close();
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, withinMs, true);
    }),
  ]);
  clearTimeout(timer);
  if (!late) return;
  onCut();
  app.server.closeAllConnections();
  await closed;
}
