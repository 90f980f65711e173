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
 */
import type { FastifyInstance } from 'fastify';
import { trackRequest, whenAnswerGone } from './connection-requests.ts';

/** Requests of one connection run at once; more wait until an earlier answer is taken. */
export const PIPELINED_AT_ONCE = 8;

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
        if (socket.destroyed) requests.held.length = 0;
        else requests.held.shift()?.run();
      });
      done();
    };
    if (requests.running < atOnce) run();
    else requests.held.push({ req: request.raw, run });
  });
}
