/** Resident memory of a process, from /proc (Linux). */
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak and the last value. */
export function sampleRss(pid: number, everyMs = 200) {
  let peak = 0;
  let last = 0;
  const take = () => {
    const v = rssBytes(pid);
    if (v !== null) {
      last = v;
      peak = Math.max(peak, v);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      take();
      clearInterval(timer);
      return { peakMiB: toMiB(peak), lastMiB: toMiB(last) };
    },
  };
}

export function toMiB(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
