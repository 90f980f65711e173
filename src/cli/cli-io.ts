/**
 * What one run of `herald` reads and writes: its environment, stdout, stderr, stdin and the exit
 * code it ends with. The bin (main.ts) runs with the process's own (processIo); the tests run
 * commands in their own process (run.ts) with streams of their own, so that a command's output,
 * arguments and exit code are checked without starting a Node process for each. The commands reach
 * the run they are part of through cliIo(), carried by AsyncLocalStorage from run() down through
 * every await; outside a run it is the process's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { processEnvironment } from '../config/client-connection.ts';
import { readUpTo } from '../config/read-file-up-to.ts';

/** A stream the CLI writes to; `isTTY` and `columns` as a terminal's WriteStream has them. */
export type CliOutput = NodeJS.WritableStream & {
  isTTY?: boolean;
  columns?: number;
  hasColors?: () => boolean;
};

export interface CliIo {
  /** The environment the settings come from (src/config reads it; nothing else does). */
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /**
   * Stdin, read when a flag names `-` (`--data @-`, `--secret-file -`): all of it, or its first
   * `maxBytes` + 1 bytes when it holds more (the rest is left unread; the caller refuses it).
   */
  readStdin(maxBytes: number): Buffer;
}

interface CliRun {
  readonly io: CliIo;
  exitCode: number;
}

/** The process's own: the bin's. */
export function processIo(): CliIo {
  return {
    env: processEnvironment(),
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: (maxBytes) => readUpTo(0, maxBytes + 1),
  };
}

const runs = new AsyncLocalStorage<CliRun>();

/** Runs `body` as one run of the CLI on `io`; resolves to its exit code (0 unless set). */
export async function withCliIo(io: CliIo, body: () => Promise<void>): Promise<number> {
  const run: CliRun = { io, exitCode: 0 };
  await runs.run(run, body);
  return run.exitCode;
}

/** The io of the run this code is part of; the process's outside one. */
export function cliIo(): CliIo {
  return runs.getStore()?.io ?? processIo();
}

/** Sets the run's exit code (process.exitCode outside a run). */
export function setExitCode(code: number): void {
  const run = runs.getStore();
  if (run) run.exitCode = code;
  else process.exitCode = code;
}
