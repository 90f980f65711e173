/**
 * The CPU time a child process has used, all its threads, read from Linux's /proc: one small file
 * read, no call into the child (which may be stuck in a RegExp). V8's GC helper threads count: the
 * child does nothing but its check, and a compile that fills a large heap spends much of its CPU
 * there. Read synchronously (~30 µs, a file the kernel writes as it is read): read through libuv's
 * thread pool, it waited behind whatever held the pool's four threads (the dispatcher's DNS
 * lookups of receivers whose resolver does not answer), and the check's time limit with it: a
 * pattern backtracking without end ran on in the child for as long, its PUT unanswered.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks a second in /proc's times: USER_HZ, 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * The user + system CPU time of process `pid` in µs (10 ms steps); null where /proc cannot
 * tell (not Linux, or the process has ended): the caller then counts on the clock.
 */
export async function childCpuMicros(pid: number): Promise<number | null> {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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
