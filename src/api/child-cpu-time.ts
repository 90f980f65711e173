/**
 * The CPU time a child process's main thread has used, read from Linux's /proc: one small file
 * read, no call into the child (which may be stuck in a RegExp). Its JavaScript runs on that
 * thread; V8's GC helper threads are not counted, as a worker thread's own CPU time did not count
 * them either.
 */
import { readFile } from 'node:fs/promises';

/** Clock ticks a second in /proc's times: USER_HZ, 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * The user + system CPU time of `pid`'s main thread in µs (10 ms steps); null where /proc cannot
 * tell (not Linux, or the process has ended): the caller then counts on the clock.
 */
export async function childCpuMicros(pid: number): Promise<number | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields are counted after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
}
