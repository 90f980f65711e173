/**
 * The API thread's side of sqlite-write-turns.test.ts, run as a worker thread: a store on the file
 * `workerData.file` accepts one small event at a time, each awaited (one commit each), as fast as it
 * can, and counts each commit in `workerData.commits` (an Int32Array's first cell), until told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../src/store/open-store.ts';
import { eventInput, T0 } from './helpers.ts';

const { file, projectId, commits } = workerData as {
  file: string;
  projectId: string;
  commits: SharedArrayBuffer;
};
const counted = new Int32Array(commits);
const store = await openStore(`sqlite:${file}`);
let stop = false;
parentPort!.once('message', () => {
  stop = true;
});
parentPort!.postMessage('ready');
while (!stop) {
  await store.acceptEvents(projectId, [eventInput('small')], T0);
  Atomics.add(counted, 0, 1);
}
await store.close();
parentPort!.postMessage('stopped');
