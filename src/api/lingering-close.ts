/**
 * A request answered before its body was read (413 over HERALD_MAX_BODY_BYTES, 401, 404, 415, 429,
 * 503) is answered with `Connection: close` (errors.ts), and Node then closes the socket as soon as
 * the answer is written (its http server's destroySoon). The client is still writing its body:
 * closed over bytes it has not read, the kernel resets the connection, and a reset discards the
 * answer still in the client's receive buffer. Measured on loopback with a raw socket writing 8 MiB
 * to a herald serve with a 1 KiB limit: the 413 was read 1-2 times of 20; plain Fastify in a process
 * of its own did no better (1 of 20). Clients saw EPIPE or ECONNRESET instead of the answer naming
 * the limit.
 *
 * Such a connection is now closed as Apache and nginx close it (a lingering close): the answer, then
 * the server's end of the connection (FIN), then what the client still sends is read and thrown away
 * until it closes its end, for at most LINGER_MS and LINGER_BYTES; then the socket is destroyed. A
 * slow sender holds it no longer than LINGER_MS, a fast one costs at most LINGER_BYTES of reads, and
 * the socket counts against the connection bounds meanwhile (connection-limits.ts). docs/api.md
 * "Limits" says so.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { MAX_BODY_BYTES_LIMIT } from '../config/max-body-bytes-limit.ts';

/** How long a connection answered before its body was read is kept reading (and discarding) its body… */
export const LINGER_MS = 2_000;
/**
 * …and how many of its bytes are read at most, before it is closed whatever the client sends: the
 * largest body any Herald takes (a client that reads nothing until it has written its body, as a
 * raw socket writing 8 MiB at once, had its answer reset with 4 MiB discarded 13 times of 20).
 */
export const LINGER_BYTES = MAX_BODY_BYTES_LIMIT;

/** Sockets whose destroySoon lingers (lingerAfterEarlyAnswers)… */
const lingerOnClose = new WeakSet<Socket>();
/** …and those lingering now. */
const lingering = new WeakSet<Socket>();

/** Whether `socket` is closing with a lingering close (errors.ts clientErrorHandler leaves it to it). */
export const isLingering = (socket: Socket): boolean => lingering.has(socket);

/**
 * Closes `socket` after its answer, written or being written: FIN, then what the client sends is
 * discarded, within the bounds. Once per socket.
 */
export function lingerThenClose(socket: Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  if (socket.writable) socket.end();
  let discarded = 0;
  const close = () => socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', close); // the client closed its end too: it has read the answer or left
  // A 'data' listener takes the socket's reads from the HTTP parser's own (its request, dumped,
  // discards the body), so the bytes are counted here.
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) close();
  });
  socket.resume();
}

/**
 * Lingers over the close of each connection whose answer goes out before its request's body was
 * read whole: Node closes such a connection with `socket.destroySoon()` once the answer is written
 * (a `Connection: close` answer); for these sockets it lingers instead.
 */
export function lingerAfterEarlyAnswers(app: FastifyInstance): void {
  app.addHook('onSend', (request, _reply, payload, done) => {
    const req = request.raw;
    const socket = req.socket as Socket | null;
    if (socket && !req.complete && !lingerOnClose.has(socket)) {
      lingerOnClose.add(socket);
      const destroySoon = socket.destroySoon;
      socket.destroySoon = function lingeringDestroySoon(this: Socket) {
        // The body was read whole meanwhile: nothing is left to reset over.
        if (req.complete) destroySoon.call(this);
        else lingerThenClose(this);
      };
    }
    done(null, payload);
  });
}
