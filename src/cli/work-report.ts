/**
 * The report of a command whose work is done by the time it prints (herald backup, herald
 * restore, herald migrate, herald copy-to-postgres, herald events send: print.ts reportOutput):
 * on stdout,
 * and when stdout cannot take it (a full disk under `> backup.log`), on stderr after a line that
 * says so, the exit code left as the work made it. main.ts's handling of output that cannot be
 * written (one line, exit code 1) would say the command failed, and keep back what it wrote where.
 * A command may report more than once (copy-to-postgres, before its copy and after): once stdout
 * has failed, the later reports go straight to stderr.
 */
import { cliIo, setExitCode } from './cli-io.ts';
import { visible } from './terminal-text.ts';

/** The stdout streams whose failure a report met (one per run: the process's, or a test's). */
const reportedStreams = new WeakSet<object>();

/** Whether a failure of `stdout` was met by report (main.ts then leaves it alone). */
export const stdoutFailureReported = (stdout: object): boolean => reportedStreams.has(stdout);

/**
 * Writes `lines` on stdout, `herald: ` first; resolves once written, or once written on stderr
 * instead, with what stopped stdout, when it could not be.
 */
export function report(lines: readonly string[], what: string): Promise<void> {
  return reportText(lines.map((line) => `herald: ${line}\n`).join(''), what);
}

/** As report, for `text` as it is (a table's lines, without `herald: `). */
export function reportText(text: string, what: string): Promise<void> {
  const { stdout, stderr } = cliIo();
  if (reportedStreams.has(stdout)) {
    stderr.write(text);
    return Promise.resolve();
  }
  return new Promise((done) => {
    // The callback comes before the stream's 'error' event (main.ts), which then finds it reported.
    stdout.write(text, (error) => {
      if (error && !reportedStreams.has(stdout)) {
        reportedStreams.add(stdout);
        stderr.write(
          `herald: cannot write the output (stdout): ${error.message}: ${what} follows here\n${text}`,
        );
      }
      done();
    });
  });
}

/**
 * The exit code of a command that made or changed a credential (an endpoint and its secret, a
 * rotated secret, an API key, a portal link) but could not print it (reportCredential): the work
 * is done, so a script must not run it again as after a failure (docs/cli.md).
 */
export const CREDENTIAL_NOT_PRINTED = 3;

/**
 * Writes `text`, which holds a credential shown only now, on stdout, and resolves to true once
 * written. When stdout cannot take it (a full disk, a reader gone), the credential is written
 * nowhere (stderr may be a log): one line on stderr after what stopped stdout says `done`, what was
 * done without the credential and the command that gets a fresh one, the exit code is
 * CREDENTIAL_NOT_PRINTED, and it resolves to false.
 */
export function reportCredential(text: string, done: string): Promise<boolean> {
  const { stdout, stderr } = cliIo();
  const fail = (why: string): false => {
    reportedStreams.add(stdout);
    stderr.write(`herald: cannot write the output (stdout): ${why}: ${visible(done)}\n`);
    setExitCode(CREDENTIAL_NOT_PRINTED);
    return false;
  };
  if (reportedStreams.has(stdout)) return Promise.resolve(fail('it failed before'));
  return new Promise((resolve) => {
    stdout.write(text, (error) => resolve(error ? fail(error.message) : true));
  });
}
