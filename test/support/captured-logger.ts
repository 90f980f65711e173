/** A Herald logger whose lines are kept, parsed, for tests that check what is logged. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.ts';

export function capturedLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
