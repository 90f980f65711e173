/**
 * What a closing server does with its idle keep-alive connections. Node's `server.close()` closes
 * them at once; but under load a client has often already sent its next request on one, still
 * unread in the kernel's buffer, and closing the socket over unread bytes resets it: the client
 * sees ECONNRESET and cannot tell whether its event was accepted. So they stay open for a short
 * window, in which any request on them is read and answered 503 with `Connection: close`
 * (refuseWhileClosing, errors.ts), and only those still idle after it are closed.
 */
import type { Server } from 'node:http';

/** Long enough for requests already on the wire to be read; short against the 10 s stop grace. */
export const IDLE_CONNECTION_DRAIN_MS = 1_000;

export function drainIdleConnectionsOnClose(server: Server, windowMs = IDLE_CONNECTION_DRAIN_MS): void {
  const closeIdle = server.closeIdleConnections.bind(server);
  let timer: NodeJS.Timeout | null = null;
  // Node's close() is what calls this (httpServerPreClose); nothing else in Herald does.
  let closing: NodeJS.Immediate | null = null;
  server.closeIdleConnections = () => {
    if (timer) return;
    // Closed after the event loop's next poll, not in the timer's callback: a process busy past the
    // window runs its due timers before it reads the sockets, so a request that came within the
    // window was still unread, and closing its socket over the unread bytes reset it (ECONNRESET,
    // as a loaded machine's SIGTERM test saw for 7 of 33 requests). Read first, it makes its
    // connection active, which closeIdleConnections leaves to be answered (503, Connection: close).
    timer = setTimeout(() => {
      closing = setImmediate(closeIdle);
      closing.unref();
    }, windowMs);
    timer.unref(); // a process that ends sooner does not wait for it
  };
  server.once('close', () => {
    if (timer) clearTimeout(timer);
    if (closing) clearImmediate(closing);
  });
}
