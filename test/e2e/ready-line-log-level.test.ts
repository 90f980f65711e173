/**
 * The ready line is the start's one announcement (DESIGN.md "Running": "The server logs one line
 * when it is ready"), and with HERALD_PORT=0 the only place the chosen port is said. A quieter
 * HERALD_LOG_LEVEL (warn, error, fatal) keeps it; only `silent` drops it, as it drops every line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { startHerald } from './harness.ts';

for (const level of ['warn', 'error', 'fatal']) {
  test(`HERALD_LOG_LEVEL=${level}: the ready line is still logged, and no info line besides`, async () => {
    // startHerald resolves on the ready line: without it this rejects after the timeout.
    const herald = await startHerald({ env: { HERALD_LOG_LEVEL: level } });
    try {
      const ready = await fetch(`${herald.url}/readyz`);
      assert.equal(ready.status, 200);
      const infoLines = herald.logLines().filter((line) => line.level === 30);
      assert.equal(infoLines.length, 1, herald.output());
      assert.match(
        String(infoLines[0]?.msg),
        /^herald ready on http:\/\/127\.0\.0\.1:\d+ \(role all, sqlite:/,
      );
    } finally {
      await herald.dispose();
    }
  });
}

test('HERALD_LOG_LEVEL=silent: no ready line (nothing is logged)', async () => {
  // Waiting a while for a line that never comes passed too on a machine too busy for the start to
  // get there: the start is waited for on /readyz instead (readyPort), which turns 200 in the turn
  // the ready line is written in, then stopped, so that all it wrote has been read.
  const herald = await startHerald({ env: { HERALD_LOG_LEVEL: 'silent' }, readyPort: await freePort() });
  try {
    assert.deepEqual(await herald.kill('SIGTERM'), { code: 0, signal: null });
    assert.doesNotMatch(herald.output(), /herald ready on/);
    assert.deepEqual(herald.logLines(), [], herald.output());
  } finally {
    await herald.dispose();
  }
});
