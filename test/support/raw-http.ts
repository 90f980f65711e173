/**
 * Raw HTTP over a fresh loopback connection, for requests fetch would refuse to send (malformed
 * requests, absolute-form targets, headers past Node's limit).
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Writes `request` and resolves with everything the server answered once it closes the connection.
 * An error after part of an answer (the server closing while the request is still being written)
 * resolves with that part; an error before any answer, or no close in 5 s, rejects.
 */
export function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('error', (error) => (response ? resolve(response) : reject(error)));
    socket.on('close', () => resolve(response));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer in 5 s')));
    socket.end(request);
  });
}

/**
 * A client that goes on writing after the server's answer and FIN (half-open allowed), as one that
 * does not read would: writes `first`, then 1 KiB every `everyMs` until the server closes the
 * connection or `times` writes are done, then destroys it. Resolves with what the server answered
 * and whether it closed the connection.
 */
export async function keepSending(
  port: number,
  { first = '', everyMs, times }: { first?: string; everyMs: number; times: number },
): Promise<{ answer: string; closed: boolean }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  try {
    if (first) socket.write(first);
    for (let i = 0; i < times && !closed; i++) {
      socket.write(Buffer.alloc(1024, 'x'));
      await sleep(everyMs);
    }
    return { answer, closed };
  } finally {
    socket.destroy();
  }
}
