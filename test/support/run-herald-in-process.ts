/**
 * Runs `herald ARGS` in this process (src/cli/run.ts) rather than as a child: the same commands,
 * output and exit code as runHerald (test/e2e/harness.ts), without the 0.4-0.5 s of CPU a Node
 * process takes to start and load the CLI. For tests about what a command prints, which arguments
 * it takes and the exit code it ends with; what is about the process (the bin starting, signals,
 * stdin as a pipe, a stdout that fails, the modules loaded, the working directory) keeps runHerald.
 * Only PATH and `env` reach it, as with runHerald: HERALD_* of the test process never leak in.
 */
import { Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/cli-io.ts';
import { run } from '../../src/cli/run.ts';

/** A stream that keeps what is written to it, as text. */
class Collected extends Writable {
  text = '';
  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runHeraldInProcess(
  args: string[],
  options: {
    env?: Record<string, string>;
    /** All of its stdin (`--data @-`, `--secret-file -`); empty otherwise. */
    input?: string;
    /**
     * A run still going after this long (one that should have ended) resolves with code null and
     * what it wrote so far, so that the test fails on its exit code instead of hanging.
     */
    killAfterMs?: number;
  } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const stdout = new Collected();
  const stderr = new Collected();
  const io: CliIo = {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdout,
    stderr,
    readStdin: (maxBytes) => Buffer.from(options.input ?? '').subarray(0, maxBytes + 1),
  };
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), options.killAfterMs ?? 60_000);
  });
  try {
    const code = await Promise.race([run(args, io), gaveUp]);
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    clearTimeout(timer);
  }
}
