/**
 * A port on 127.0.0.1 that does not take connections: a connection to it stays unanswered (SYN
 * sent, never acknowledged), as towards a host that is down or behind a firewall that drops, and
 * unlike a refused port (refused-port.ts), which answers at once. Its listener sits on a worker
 * thread that never accepts, and its accept queue is filled first, so the kernel drops every SYN
 * after that. Loopback only.
 */
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

// The worker listens with the smallest accept queue, says its port, and then blocks: it never accepts.
const LISTENER = `
const { parentPort } = require('node:worker_threads');
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

export interface UnacceptedPort {
  port: number;
  close(): Promise<void>;
}

export async function unacceptedPort(): Promise<UnacceptedPort> {
  const worker = new Worker(LISTENER, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Connections the kernel completes for the queue, until one is not: the queue is full.
  const fillers: Socket[] = [];
  for (let taken = true; taken; ) {
    if (fillers.length > 64) throw new Error(`127.0.0.1:${port} goes on taking connections`);
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    taken = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
  return {
    port,
    async close() {
      for (const socket of fillers) socket.destroy();
      await worker.terminate();
    },
  };
}
