/**
 * A process paused past an attempt's timeout (SIGSTOP, a stalled VM) while the response
 * arrived in time: when it runs again its timers come before its socket reads, and the attempt must
 * not be recorded as a timeout (a tester paused a worker 16.7 s: 18 answered attempts were recorded
 * as timeouts and sent again).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { createSender } from '../../src/delivery/sender.ts';

const SERVER = `require('node:http').createServer((q, s) => setTimeout(() => s.end('ok'), 100))
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

test('a response that arrived while the process was stopped past the timeout is read, not timed out', async () => {
  // The receiver in another process, so it answers while this one is stopped.
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [data] = (await once(child.stdout!, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${Number(data.toString().trim())}/hook`;
    const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 't' });
    try {
      const send = () => sender.send({ method: 'POST', url, headers: {}, body: '{}', timeoutMs: 300 });
      assert.equal((await send()).response?.status, 200, 'a connection is open and warm');
      const pending = send();
      // Another process stops this one just after the request went out and lets it go on past the
      // timeout: the answer (100 ms) arrives meanwhile.
      const pauser = spawn(
        '/bin/sh',
        ['-c', 'sleep 0.05; kill -STOP $0; sleep 0.6; kill -CONT $0', String(process.pid)],
        {
          stdio: 'ignore',
        },
      );
      const paused = once(pauser, 'exit');
      const result = await pending;
      await paused;
      assert.equal(result.error, null, result.error?.message);
      assert.equal(result.response?.status, 200);
    } finally {
      await sender.close();
    }
  } finally {
    child.kill();
  }
});
