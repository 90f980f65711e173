/**
 * `herald` command line: turns arguments into options and calls the same functions the API and
 * the server use (serve, migrate, event-types), or a running Herald's API through @herald/client
 * (projects, portal-links, events, endpoints, deliveries, operational-events, event-types list|get,
 * listen). Loaded by bin/herald.js; runs on import: run.ts with the process's own io.
 */
import { processIo } from './cli-io.ts';
import { run } from './run.ts';
import { stdoutFailureReported } from './work-report.ts';

// `herald events list | head -1`: the reader went away, which is not an error of ours. Output that
// cannot be written otherwise (a full disk: `> report.txt` in a cron job) is a failure: one line
// and exit code 1, where it was a stack trace, or exit code 0 after `--version` or `--help`, which
// exit before the stream reports its error (it is then only in stdout.errored). A command whose
// work is done when it reports it (herald backup, migrate, copy-to-postgres, events send) says on
// stderr what it did instead (work-report.ts).
let outputFailed = false;
const cannotWrite = (error: NodeJS.ErrnoException): void => {
  if (outputFailed) return;
  outputFailed = true;
  process.stderr.write(`herald: cannot write the output (stdout): ${error.message}\n`);
};
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (stdoutFailureReported(process.stdout)) return;
  if (error.code === 'EPIPE') process.exit(0);
  cannotWrite(error);
  process.exit(1);
});
process.on('exit', () => {
  const error = process.stdout.errored as NodeJS.ErrnoException | null;
  if (!error || error.code === 'EPIPE' || stdoutFailureReported(process.stdout)) return;
  cannotWrite(error);
  process.exitCode = 1;
});

const code = await run(process.argv.slice(2), processIo());
// A command that set none leaves the process's own (a signal handler's, serve's) as it is.
if (code !== 0) process.exitCode = code;
