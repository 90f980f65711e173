/** The raw ceiling: an undici Pool posting straight to the receiver, in a process of its own. */
import { join } from 'node:path';
import { forkProgram, nextMessage } from '../lib/child.ts';

export interface RawSender {
  readonly pid: number;
  /** Stops the loop; resolves with how many requests it sent and how many failed. */
  stop(): Promise<{ sent: number; errors: number }>;
}

export async function startRawSender(targetUrl: string, concurrency: number): Promise<RawSender> {
  const child = forkProgram(join(import.meta.dirname, 'raw-undici-sender.ts'), [
    targetUrl,
    String(concurrency),
  ]);
  await nextMessage(child, 'ready');
  return {
    pid: child.pid ?? -1,
    async stop() {
      const stopped = nextMessage<{ type: 'stopped'; sent: number; errors: number }>(child, 'stopped');
      child.send({ type: 'stop' });
      const { sent, errors } = await stopped;
      return { sent, errors };
    },
  };
}
