/**
 * Runs a callback once a request's answer is gone: taken by the client (handed to the operating
 * system) or lost with its connection. The response's own 'close' says so for the answer being
 * written; but a pipelined answer still waiting behind an earlier one on the same connection gets
 * no 'close' from Node when the client leaves, ever. Whatever was counted until its 'close' stayed
 * counted: a client that pipelined 20 requests for large pages and left without reading kept its
 * credential's room for unread answers (answers-in-flight.ts) taken for as long as the process ran,
 * and that credential's later pages were 503. So the connection's 'close' ends them too.
 */
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';

/** Callbacks of answers not gone yet, by connection: one 'close' listener each, however many. */
const pendingByConnection = new WeakMap<Socket, Set<() => void>>();

export function whenAnswerGone(reply: FastifyReply, then: () => void): void {
  const socket = reply.request.raw.socket;
  let pending = pendingByConnection.get(socket);
  if (!pending) {
    const created = new Set<() => void>();
    pending = created;
    pendingByConnection.set(socket, created);
    socket.once('close', () => {
      for (const gone of created) gone();
    });
  }
  const connection = pending;
  let called = false;
  const gone = () => {
    if (called) return;
    called = true;
    connection.delete(gone);
    reply.raw.removeListener('close', gone);
    then();
  };
  connection.add(gone);
  reply.raw.once('close', gone);
  if (socket.closed) queueMicrotask(gone); // gone before it could be listened for
}
