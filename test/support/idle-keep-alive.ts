/**
 * A client's keep-alive connection left idle after its first answer, and a request written on it
 * while this thread is then held: for the tests of what a server does with idle connections when
 * its thread cannot run (inactivity-close, drain-idle-connections).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** What comes back on `socket` until it closes: the bytes, and the error it ended with, if any. */
export function answersUntilClose(socket: Socket): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    let text = '';
    let error: string | null = null;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => resolve({ text, error }));
  });
}

/**
 * A connection to `port` whose first request (`request`) has been answered: idle, kept alive;
 * `answers`, everything it gets until it closes.
 */
export async function idleConnection(port: number, request: string) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const answers = answersUntilClose(socket);
  socket.write(request);
  await new Promise<void>((resolve) => {
    const seen = () => {
      socket.off('data', seen);
      resolve();
    };
    socket.on('data', seen);
  });
  return { socket, answers };
}

/**
 * In a check-phase callback (as the tail of a busy turn): writes `request` (on loopback, in the
 * server socket's buffer at once), then holds this thread `ms`, so that a server timer due within
 * them is due before the request is read.
 */
export function writeThenHold(socket: Socket, request: string, ms: number): Promise<void> {
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      socket.write(request);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      resolve();
    }),
  );
}
