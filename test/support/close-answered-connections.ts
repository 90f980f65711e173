/**
 * For a test's own listening server, once every request it was sent has been answered: closes the
 * connections its client kept alive, before the server's close. A Herald server that closes keeps
 * idle kept-alive connections open for IDLE_CONNECTION_DRAIN_MS (1 s), in case a request is already
 * on its way on one (drain-idle-connections.ts): fetch keeps its connection alive, so each close of
 * a test's server took 1 s more. Not for tests of the close itself (shutdown-errors.test.ts), nor
 * with a request still in flight: this cuts it.
 */
import type { Server } from 'node:http';

export function closeAnsweredConnections(server: Server): void {
  server.closeAllConnections();
}
