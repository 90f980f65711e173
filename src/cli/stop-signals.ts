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
      // Signals are read in the event loop's poll phase, which comes before setImmediate's.
      await new Promise((resolve) => setImmediate(resolve));
      if (received) throw new CommandError(stopped(received));
    },
    dispose() {
      process.off('SIGINT', note).off('SIGTERM', note);
    },
  };
}
