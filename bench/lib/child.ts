/** Forks one of the benchmark's own TypeScript programs on the same Node (24) as the parent. */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export function forkProgram(
  path: string,
  args: string[] = [],
  env: Record<string, string> = {},
): ChildProcess {
  return fork(path, args, {
    execPath: process.execPath,
    execArgv: ['--disable-warning=ExperimentalWarning'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
}

/** Resolves with the first IPC message of `type` from `child`; rejects if it exits first. */
export function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (code ${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Asks a child to stop (IPC `stop`, then SIGTERM, then SIGKILL) and waits for it to exit. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** This process's children that have not exited (zombies left out), from /proc (Linux). */
function livingChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') out.push(Number(name));
    } catch {} // gone meanwhile
  }
  return out;
}

/**
 * SIGKILLs every child of this process still running and waits (at most `waitMs`) until they are
 * gone: for an interrupted benchmark, the processes it was still starting (a Herald before its
 * ready line, a redis-server before it accepts connections), which no list holds yet.
 */
export async function killChildren(waitMs = 5_000): Promise<number[]> {
  const pids = livingChildren();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {} // exited meanwhile
  }
  const deadline = Date.now() + waitMs;
  while (livingChildren().some((pid) => pids.includes(pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return pids;
}
