/**
 * Each connection's requests whose answer is not gone yet, for what the API decides per connection:
 * refuseWhileClosing (errors.ts: does another request wait behind this answer), pipelined-requests.ts
 * (how many run at once), inactivity-close.ts (is one being worked on), and whenAnswerGone's callers
 * (answers-in-flight.ts, bodies-in-flight.ts). One 'close' listener per request and per connection.
 *
 * An answer is gone once the client has taken it (its 'close') or has left. Node gives a pipelined
 * answer still waiting behind an earlier one no 'close' when its client leaves, ever: a client that
 * pipelined 20 requests for large pages and left kept its credential's room for unread answers taken
 * for as long as the process ran, and its later pages were 503. So the connection's 'close' ends them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';

interface RequestInFlight {
  readonly res: ServerResponse;
  /** Called once its answer is gone (whenAnswerGone), in the order they were given. */
  readonly whenGone: (() => void)[];
}

export interface ConnectionRequests {
  /** Its requests read and whose answer is not gone yet, in the order they came. */
  readonly inFlight: Map<IncomingMessage, RequestInFlight>;
  /** The last request read on it (errors.ts refuseWhileClosing: does another wait behind this one). */
  newest: IncomingMessage | undefined;
  /** Of those, how many run (pipelined-requests.ts)… */
  running: number;
  /**
   * …and those held until an earlier answer is gone, with what runs each, in the order they came: a
   * map, so that whether one is held is known at once (inactivity-close.ts asks it of each).
   */
  readonly held: Map<IncomingMessage, () => void>;
  /** Whether the socket is not read for now: too many of its requests are held (pipelined-requests.ts). */
  readingStopped: boolean;
}

const connections = new WeakMap<object, ConnectionRequests>();

function answerGone(connection: ConnectionRequests, req: IncomingMessage): void {
  const request = connection.inFlight.get(req);
  if (!request) return;
  connection.inFlight.delete(req);
  for (const then of request.whenGone) then();
}

/**
 * The request's connection, with the request in flight on it: once, whoever asks first. Not when its
 * answer or its connection is gone already (nothing would end it).
 */
export function trackRequest(req: IncomingMessage, res: ServerResponse): ConnectionRequests {
  const socket = req.socket;
  const connection = connections.get(socket) ?? newConnection(socket);
  if (!socket.closed && !res.closed && !connection.inFlight.has(req)) {
    connection.inFlight.set(req, { res, whenGone: [] });
    connection.newest = req;
    res.once('close', () => answerGone(connection, req));
  }
  return connection;
}

function newConnection(socket: IncomingMessage['socket']): ConnectionRequests {
  const connection: ConnectionRequests = {
    inFlight: new Map(),
    newest: undefined,
    running: 0,
    held: new Map(),
    readingStopped: false,
  };
  connections.set(socket, connection);
  socket.once('close', () => {
    for (const req of connection.inFlight.keys()) answerGone(connection, req);
  });
  return connection;
}

/** The socket's connection; none for a socket that had no request. */
export const connectionOf = (socket: object): ConnectionRequests | undefined => connections.get(socket);

const tracking = new WeakSet<FastifyInstance>();

/** Every request is in flight from its onRequest hook on: installed once, by the first who reads it. */
export function trackConnectionRequests(app: FastifyInstance): void {
  if (tracking.has(app)) return;
  tracking.add(app);
  app.addHook('onRequest', (request, reply, done) => {
    trackRequest(request.raw, reply.raw);
    done();
  });
}

/** Calls `then` once the reply's answer is gone: taken by the client, or lost with its connection. */
export function whenAnswerGone(reply: FastifyReply, then: () => void): void {
  const req = reply.request.raw;
  const request = trackRequest(req, reply.raw).inFlight.get(req);
  if (request) request.whenGone.push(then);
  else queueMicrotask(then); // gone before it could be listened for
}
