/**
 * Raw HTTP over a fresh loopback connection, for requests fetch would refuse to send (malformed
 * requests, absolute-form targets, headers past Node's limit).
 */
import { connect } from 'node:net';

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
