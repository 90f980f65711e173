/** CPU used by processes over a span of time, from /proc (Linux), as % of one core. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on Linux. */
const TICKS = 100;

function cpuSecondsOf(pid: number): number | null {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), "(…) S ppid …": utime is the 14th field.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine spent busy (all cores), from the first line of /proc/stat. */
function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
  } catch {
    return null;
  }
}

/**
 * Starts measuring; `stop()` answers each process's CPU share (% of one core) since then, and
 * `others`: what the rest of the machine used meanwhile (a busy machine skews a run).
 */
export function meterCpu(pids: Record<string, number>) {
  const t0 = performance.now();
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  const busy0 = machineBusySeconds();
  return {
    stop(): Record<string, number> {
      const seconds = (performance.now() - t0) / 1000;
      const out: Record<string, number> = {};
      let ours = 0;
      for (const [name, pid] of Object.entries(pids)) {
        const a = start[name];
        const b = cpuSecondsOf(pid);
        if (a != null && b != null) {
          out[name] = Math.round(((b - a) / seconds) * 100);
          ours += b - a;
        }
      }
      const busy1 = machineBusySeconds();
      if (busy0 != null && busy1 != null)
        out.others = Math.max(0, Math.round(((busy1 - busy0 - ours) / seconds) * 100));
      return out;
    },
  };
}

/** How busy the whole machine is over `ms`, % of one core (200 = both cores of a 2-core machine). */
export async function machineBusy(ms: number): Promise<number | null> {
  const a = machineBusySeconds();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineBusySeconds();
  return a == null || b == null ? null : Math.round(((b - a) / (ms / 1000)) * 100);
}

/**
 * Waits (at most `maxMs`) until the machine is nearly idle, so that a phase does not share the
 * cores with someone else's work; answers the last busy share seen.
 */
export async function waitForQuiet(maxMs: number, thresholdPct = 25): Promise<number | null> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const busy = await machineBusy(1_000);
    if (busy === null || busy <= thresholdPct || Date.now() >= deadline) return busy;
  }
}
