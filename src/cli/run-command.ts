import { ConfigError } from '../config/config-error.ts';
import { cliIo, setExitCode } from './cli-io.ts';
import { visible } from './terminal-text.ts';

/** A failure the user can fix from the message alone (bad file, unreachable database): no stack trace. */
export class CommandError extends Error {
  readonly code = 'HERALD_ERR_COMMAND';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandError';
  }
}

/** Programming errors: the stack trace is what a bug report needs. */
const BUG_TYPES = [TypeError, ReferenceError, RangeError, SyntaxError];

/**
 * Runs a command's body and turns a failure into a message on stderr and exit code 1. Expected
 * failures print one line (plus the messages of their causes); bugs print their stack.
 */
export async function runCommand(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    cliIo().stderr.write(`herald: ${describe(error)}\n`);
    setExitCode(1);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!(error instanceof ConfigError) && BUG_TYPES.some((type) => error instanceof type)) {
    return error.stack ?? error.message;
  }
  let text = error.message;
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) {
    if (!text.includes(cause.message)) text += `: ${cause.message}`;
  }
  // A server's or a tenant's words (an API error echoes names and values): one visible line.
  return visible(text);
}
