/**
 * How many requests of one connection are run at once. A client may pipeline: write many
 * requests on a connection before reading any answer. Node parses every request in what it reads
 * from the socket in one go (64 KiB: ~450 short GETs) and hands them all to the app, which runs them
 * together; their answers wait in memory until the client reads the ones before them. One project
 * key pipelining 200 requests for a page of events (~4 MiB each) on one connection it never read
 * took a server from 175 MB to 1.4 GB resident (1,000 requests: 2.3 GB), and it stayed there: all
 * 200 pages were built at once, before any could be refused for the unread answers
 * (answers-in-flight.ts) or collected. 200 connections asking once each took it to 390 MB.
 *
 * So a connection's requests past PIPELINED_AT_ONCE wait, before anything of them is run, until an
 * earlier one's answer has been taken by the client (or the client has left). Answers still go out
 * in order, as HTTP/1.1 requires; a client that does not pipeline never waits.
 *
 * Node stops reading a socket only once its written answers back up, and waiting requests have none:
 * a client that pipelined 20,000 short GETs before its first answers were written had all 20,000
 * read and held. So past HELD_AT_MOST waiting, the socket is not read until one of them runs; what
 * Node has read already is still parsed (at most one read, 64 KiB of requests).
 *
 * A request held when the server begins to close is answered 503 when its turn comes, as one that
 * came after the close (errors.ts refusedWhileClosing): nothing of it runs.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type ConnectionRequests, trackRequest, whenAnswerGone } from './connection-requests.ts';
import { refusedWhileClosing } from './errors.ts';

/** Requests of one connection run at once; more wait until an earlier answer is taken. */
export const PIPELINED_AT_ONCE = 8;

/** Requests of one connection waiting to run past which its socket is not read for now. */
export const HELD_AT_MOST = 100;

export function limitPipelinedRequests(app: FastifyInstance, atOnce = PIPELINED_AT_ONCE): void {
  // A callback hook: it runs for every request, and waits only when a client pipelines.
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket;
    const requests = trackRequest(request.raw, reply.raw); // its connection's (connection-requests.ts)
    const run = () => {
      requests.running++;
      // Once the answer is handed to the operating system, or the client has left.
      whenAnswerGone(reply, () => {
        requests.running--;
        // A client that left has nobody to answer: what it had pipelined is not run at all.
        if (socket.destroyed) requests.held.clear();
        else runNextHeld(requests, socket);
      });
      // Held since before the server began to close: refused as a request that came after.
      if (!refusedWhileClosing(request, reply)) done();
    };
    if (requests.running < atOnce) return run();
    requests.held.set(request.raw, run);
    // Each time, not only the first, and kept paused (keepPaused): Node resumes a socket it sees
    // paused when an answer's writes drain (its socketOnDrain), which would read the flood again.
    if (requests.held.size >= HELD_AT_MOST) {
      requests.readingStopped = true;
      keepPaused(socket, requests);
      readingOf(socket)._paused = true; // Node's own mark: what reads a request body leaves it paused
      socket.pause();
    }
  });
}

const keptPaused = new WeakSet<Socket>();

/**
 * Node resumes a socket it sees marked paused, whoever paused it, when its queued answers are small
 * again: on the socket's 'drain' and each time an answer queued behind another is written or flushed
 * (http server socketOnDrain). While too many requests wait, each such resume read another 64 KiB
 * of them: with one fast answer queued behind a slow one, 873 of a flood of 3,000 were held (all
 * 3,000 before the pause was renewed each time). So until one of them runs (runNextHeld), the
 * socket's resume() only keeps Node's mark, and it stays paused.
 */
function keepPaused(socket: Socket, requests: ConnectionRequests): void {
  if (keptPaused.has(socket)) return;
  keptPaused.add(socket);
  const resume = socket.resume;
  socket.resume = function (this: Socket) {
    if (!requests.readingStopped) return resume.call(this);
    readingOf(this)._paused = true;
    return this;
  };
}

function runNextHeld(requests: ConnectionRequests, socket: Socket): void {
  const next = requests.held.entries().next();
  if (next.done) return;
  const [req, run] = next.value;
  requests.held.delete(req);
  if (requests.readingStopped && requests.held.size < HELD_AT_MOST) {
    requests.readingStopped = false;
    // As Node resumes a socket it had paused for its answers (http server socketOnDrain): the
    // parser too, which Node pauses after a read while the socket is marked paused.
    const reading = readingOf(socket);
    reading._paused = false;
    reading.parser?.resume();
    socket.resume();
  }
  run();
}

/** The fields Node's HTTP server keeps on a socket for whether it reads it (not in its types). */
const readingOf = (socket: Socket) =>
  socket as Socket & { _paused?: boolean; parser?: { resume(): void } | null };
