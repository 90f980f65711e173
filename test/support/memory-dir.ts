/**
 * Where tests put files they throw away: in memory (/dev/shm, a tmpfs) when the machine has one
 * with MEMORY_MIN_FREE_BYTES free, the temporary directory otherwise.
 *
 * On this machine's disk (ext4 mounted `discard`), each file deleted is a synchronous discard
 * (~5 ms a file) and each fsync of a commit waits for the disk (cli-backup-restore.test.ts's 344
 * took 6.0 s at a load of 14-22): a test pays for them in wall time, and none is about them. In memory a commit's fsync and a file's deletion cost nothing; SQLite and
 * PostgreSQL read and write the same files, and a process killed (SIGKILL) loses no more there than
 * on a disk: what the kernel holds survives the process either way (a test can't cut the power).
 * Tests that are about the disk (a full one, write errors) mount a small tmpfs of their own.
 * A container's /dev/shm is 64 MiB by default: too small for a server's files, whose writes would
 * fail for want of room, and the tests with them, hence the bound.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** At least this much free in /dev/shm to put tests' files there: 4 GiB. */
const MEMORY_MIN_FREE_BYTES = 4 * 1024 ** 3;

function roomyMemoryDir(): string | null {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const { bavail, bsize } = statfsSync('/dev/shm');
    return bavail * bsize >= MEMORY_MIN_FREE_BYTES ? '/dev/shm' : null;
  } catch {
    return null;
  }
}

/** /dev/shm when it is writable with 4 GiB free (read once, at the first import), tmpdir() otherwise. */
export const MEMORY_TEMP_DIR: string = roomyMemoryDir() ?? tmpdir();
