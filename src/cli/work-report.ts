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
let reported = false;

/** Whether a failure of stdout was met by report (main.ts then leaves it alone). */
export const stdoutFailureReported = (): boolean => reported;

/**
 * Writes `lines` on stdout, `herald: ` first; resolves once written, or once written on stderr
 * instead, with what stopped stdout, when it could not be.
 */
export function report(lines: readonly string[], what: string): Promise<void> {
  return reportText(lines.map((line) => `herald: ${line}\n`).join(''), what);
}

/** As report, for `text` as it is (a table's lines, without `herald: `). */
export function reportText(text: string, what: string): Promise<void> {
  if (reported) {
    process.stderr.write(text);
    return Promise.resolve();
  }
  return new Promise((done) => {
    // The callback comes before the stream's 'error' event (main.ts), which then finds it reported.
    process.stdout.write(text, (error) => {
      if (error && !reported) {
        reported = true;
        process.stderr.write(
          `herald: cannot write the output (stdout): ${error.message}: ${what} follows here\n${text}`,
        );
      }
      done();
    });
  });
}
