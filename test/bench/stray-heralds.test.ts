/**
 * The bench kills a Herald a failed scenario left running (bench/run.ts calls stopStrayHeralds in
 * its finally), and leaves alone one that was stopped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDatabase, launchHerald, stopStrayHeralds } from '../../bench/lib/herald-process.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('stopStrayHeralds kills the Heralds launched and not stopped, and only those', async () => {
  const db = await createDatabase('sqlite');
  try {
    const stopped = await launchHerald(db, { role: 'api' });
    await stopped.stop();
    const stray = await launchHerald(db, { role: 'api' });
    assert.ok(alive(stray.pid));
    assert.deepEqual(await stopStrayHeralds(), [stray.pid]);
    assert.equal(alive(stray.pid), false);
    assert.deepEqual(await stopStrayHeralds(), []);
  } finally {
    await stopStrayHeralds();
    db.dispose();
  }
});
