/**
 * The API closes a connection with no traffic either way for 60 s (connectionTimeout in
 * build-app.ts slowClientLimits: a client that opens a socket and goes quiet, or stops reading
 * its answer). Node's HTTP server applies it to every socket, also one whose request has been read
 * whole and is being worked on: an event request waiting on the database past it had its socket
 * destroyed while its events were still stored afterwards, so its client saw the connection closed
 * ('fetch failed', the server logged 'Premature close'), retried and stored them twice, or gave
 * them up as lost. The wait is the server's, not the client's: such a socket stays open until its
 * answer starts (what it waits on is bounded: the store's timeouts, the group-commit queue's
 * ACCEPT_WAIT_MS), and the answer's traffic starts the 60 s again (a spared socket is looked at
 * again 60 s on in any case: an answer queued behind ones a pipelining client does not read makes
 * no traffic, and such a socket was never closed). Every other socket without traffic for that
 * long is destroyed, as Node does by itself: also one whose only requests not answered are held
 * behind a pipelining client's running ones, waiting for it to read (they kept a connection that
 * stopped reading open for good).
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { connectionOf, trackConnectionRequests } from './connection-requests.ts';

export function closeInactiveUnlessAnswering(app: FastifyInstance): void {
  trackConnectionRequests(app); // each socket's requests not yet answered whole, pipelined ones too
  // With a listener here, Node leaves every timed-out socket to it (http server socketOnTimeout).
  app.server.on('timeout', (socket: Socket) => {
    // Decided after the event loop's next read of the sockets, not in the timer's callback: a
    // thread busy past the timeout in a callback (a large accept group written synchronously, a
    // large body parsed) runs its due timers in its next turn before it reads the sockets, so a
    // request a client sent in time on an idle keep-alive connection was still unread, and
    // destroying the socket over it reset it (ECONNRESET: its client cannot tell whether its
    // events were taken).
    // Read first, it is traffic: the socket's timer starts again (Node's, on the read), and the
    // request is answered.
    const read = socket.bytesRead;
    setImmediate(() => {
      if (!socket.destroyed && socket.bytesRead === read) quiet(socket);
    });
  });
  /** `socket` had no traffic for its timeout: destroyed, unless its request is being worked on. */
  const quiet = (socket: Socket) => {
    const requests = connectionOf(socket);
    for (const [req, { res }] of requests?.inFlight ?? []) {
      // Being worked on: its answer is on the way. Not one held behind a pipelining client's
      // running requests (pipelined-requests.ts): that one waits for the client to read.
      if (req.complete && !res.headersSent && !requests?.held.has(req)) {
        // Node times a socket out once per quiet spell, and an answer queued behind ones the client
        // does not read makes no traffic that would start another: looked at again after as long.
        socket.setTimeout(socket.timeout ?? app.server.timeout);
        return;
      }
    }
    socket.destroy();
  };
}
