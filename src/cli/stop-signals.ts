/**
 * Ctrl-C or a stop (SIGINT, SIGTERM) noted while a command works, rather than ending the process
 * on the spot: the command looks at `checkpoint()` between its steps, and the CommandError it
 * throws there runs the command's own clean-up (a half-made copy beside a database is removed).
 * A signal that comes during synchronous work is noted at the next checkpoint; one that comes
 * after the last checkpoint, once the command has started what it must finish, is let go.
 */
import { CommandError } from './run-command.ts';

export interface StopSignals {
  /** Lets a signal that came meanwhile be noted, then throws `stopped(signal)` if one came. */
  checkpoint(): Promise<void>;
  /** Stops listening: from here on a signal ends the process as usual. */
  dispose(): void;
}

export function watchStopSignals(stopped: (signal: NodeJS.Signals) => string): StopSignals {
  let received: NodeJS.Signals | null = null;
  const note = (signal: NodeJS.Signals) => {
    received ??= signal;
  };
  process.on('SIGINT', note).on('SIGTERM', note);
  return {
    async checkpoint() {
      await signalsRead();
      if (received) throw new CommandError(stopped(received));
    },
    dispose() {
      process.off('SIGINT', note).off('SIGTERM', note);
    },
  };
}

/**
 * Resolves once a signal that came during synchronous work has been handed to its listeners.
 * Signals are read in the event loop's poll phase. One setImmediate is not enough: called from
 * the poll phase (after an fs or worker callback) it runs in this turn's check phase, before any
 * poll reads the signal; the second runs in the next turn's, after its poll.
 */
export async function signalsRead(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
}
