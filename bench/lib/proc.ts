/** Resident memory of a process, from /proc (Linux). */
import { readFileSync, writeFileSync } from 'node:fs';

/** A `kB` line of /proc/<pid>/status, in bytes (null when the process is gone). */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function rssBytes(pid: number): number | null {
  return statusBytes(pid, 'VmRSS');
}

/** The samplers of each process whose peak the kernel keeps for them (VmHWM since their start). */
const exact = new Map<number, Set<{ peak: number }>>();

/** Hands the kernel's peak so far to every exact sampler of `pid`: before a reset, and at a stop. */
function foldPeak(pid: number): void {
  const hwm = statusBytes(pid, 'VmHWM');
  if (hwm === null) return;
  for (const s of exact.get(pid) ?? []) s.peak = Math.max(s.peak, hwm);
}

/** Sets the kernel's peak (VmHWM) to the current RSS ("5" to clear_refs, Linux 4.0); false if not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A process's RSS from now until `stop()`: the peak and the last value. The peak is the kernel's
 * (VmHWM, reset at the start), so memory taken and given back between two samples counts; where
 * the reset is not allowed, it is the highest of samples taken every `everyMs`. Samplers of one
 * process may overlap (the backlog's worker has two): each reset first hands the peak so far to the
 * others.
 */
export function sampleRss(pid: number, everyMs = 200) {
  const state = { peak: 0 };
  let last = 0;
  foldPeak(pid);
  const kernelPeak = resetPeak(pid);
  if (kernelPeak) exact.set(pid, (exact.get(pid) ?? new Set()).add(state));
  const take = () => {
    const v = rssBytes(pid);
    if (v !== null) {
      last = v;
      state.peak = Math.max(state.peak, v);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      take();
      clearInterval(timer);
      if (kernelPeak) {
        foldPeak(pid);
        const samplers = exact.get(pid);
        samplers?.delete(state);
        if (samplers?.size === 0) exact.delete(pid);
      }
      return { peakMiB: toMiB(state.peak), lastMiB: toMiB(last) };
    },
  };
}

export function toMiB(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
