/**
 * The API closes a connection with no traffic either way for 60 s (connectionTimeout in
 * build-app.ts slowClientLimits: a client that opens a socket and goes quiet, or stops reading
 * its answer). Node's HTTP server applies it to every socket, also one whose request has been read
 * whole and is being worked on: an event request waiting on the database past it had its socket
 * destroyed while its events were still stored afterwards, so its client saw the connection closed
 * ('fetch failed', the server logged 'Premature close'), retried and stored them twice, or gave
 * them up as lost. The wait is the server's, not the client's: such a socket stays open until its
 * answer starts (what it waits on is bounded: the store's timeouts, the group-commit queue's
 * ACCEPT_WAIT_MS), and the answer's traffic starts the 60 s again. Every other socket without
 * traffic for that long is destroyed, as Node does by itself.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export function closeInactiveUnlessAnswering(server: Server): void {
  /** Per socket, its requests not yet answered whole (pipelined ones too). */
  const open = new WeakMap<Socket, Set<{ req: IncomingMessage; res: ServerResponse }>>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let pending = open.get(socket);
    if (!pending) {
      pending = new Set();
      open.set(socket, pending);
    }
    const entry = { req, res };
    pending.add(entry);
    const done = () => pending.delete(entry);
    res.once('finish', done);
    res.once('close', done);
  });
  // With a listener here, Node leaves every timed-out socket to it (http server socketOnTimeout).
  server.on('timeout', (socket: Socket) => {
    for (const { req, res } of open.get(socket) ?? []) {
      if (req.complete && !res.headersSent) return; // being worked on: its answer is on the way
    }
    socket.destroy();
  });
}
