/**
 * `Expect: 100-continue`: a client (curl sends it for bodies over 1 MiB) asks whether to send its
 * body before sending it. Node answers `100 Continue` at once by itself, before any of Herald's
 * checks run, so a request for 100 MB got 100 Continue and then 413, and one without a token 100
 * Continue and then 401: the client was told to send a body it would be refused for. Herald answers
 * it itself now, once the request has passed what is settled before the body is read (the closing
 * check, the rate limit, authentication, the project, the room among bodies in flight: the
 * preParsing hook is registered after limitBodiesInFlight's), and only when the declared length is
 * within HERALD_MAX_BODY_BYTES (over it, the body parser answers 413 without reading it). Refused
 * before that, the client gets the refusal instead of 100 Continue, and sends nothing.
 */
import type { FastifyInstance } from 'fastify';

export function answerExpectContinue(app: FastifyInstance, maxBodyBytes: number): void {
  // With a listener, Node no longer answers 100 Continue by itself: the request goes to the app as
  // any other, and the hook below answers it.
  app.server.on('checkContinue', (request, response) => app.server.emit('request', request, response));
  app.addHook('preParsing', (request, reply, payload, done) => {
    const expect = request.headers.expect;
    if (expect !== undefined && expect.toLowerCase() === '100-continue') {
      const declared = Number(request.headers['content-length']);
      if (!(declared > maxBodyBytes) && !reply.raw.headersSent) reply.raw.writeContinue();
    }
    done(null, payload);
  });
}
