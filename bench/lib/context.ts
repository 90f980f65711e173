import type { BenchOptions } from './options.ts';
import type { Receiver } from './receiver-client.ts';
import type { Results } from './results.ts';

/** What every scenario gets: the options, the shared receiver, and the results so far. */
export interface BenchContext {
  readonly options: BenchOptions;
  readonly receiver: Receiver;
  readonly results: Results;
  log(message: string): void;
}
