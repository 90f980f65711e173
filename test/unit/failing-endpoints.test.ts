/** Which endpoints a claim takes only up to their free connections (failing-endpoints.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFailingEndpoints, FAILURES_IN_A_ROW } from '../../src/delivery/failing-endpoints.ts';

const a = { endpointId: 'ep_a', projectId: 'prj_1' };
const b = { endpointId: 'ep_b', projectId: 'prj_2' };

test('a failure starts a pause that ends pauseMs after the last failure', () => {
  const failing = createFailingEndpoints(1_000, 1);
  failing.note(a, true, 0);
  assert.deepEqual(failing.at(999), [a]);
  failing.note(a, true, 900); // another failure extends it
  assert.deepEqual(failing.at(1_899), [a]);
  assert.deepEqual(failing.at(1_900), []);
});

test('a success ends the pause at once; other endpoints keep theirs', () => {
  const failing = createFailingEndpoints(1_000, 1);
  failing.note(a, true, 0);
  failing.note(b, true, 10);
  failing.note(a, false, 20);
  assert.deepEqual(failing.at(30), [b]);
  failing.note(a, false, 40); // a success of an endpoint that was not failing changes nothing
  assert.deepEqual(failing.at(50), [b]);
});

test('endpoints whose pauses ended are dropped while the others stay, whatever the order', () => {
  const failing = createFailingEndpoints(100, 1);
  failing.note(a, true, 0);
  failing.note(b, true, 50);
  failing.note(a, true, 60); // a's last failure is now after b's
  assert.deepEqual(failing.at(149), [b, a]);
  assert.deepEqual(failing.at(150), [a]);
  assert.deepEqual(failing.at(160), []);
});

test('an endpoint is failing after FAILURES_IN_A_ROW failures in a row, for the pause after each; a success starts the run again, a pause between does not (a down endpoint fails a pause apart)', () => {
  const failing = createFailingEndpoints(1_000);
  assert.equal(FAILURES_IN_A_ROW, 3);
  assert.equal(failing.note(a, true, 0), false);
  assert.equal(failing.note(a, true, 10), false);
  assert.deepEqual(failing.at(20), [], 'two failures: not failing (one in 25 fails: a 502 now and then)');
  assert.equal(failing.note(a, true, 20), true);
  assert.deepEqual(failing.at(30), [a]);
  assert.equal(failing.note(a, false, 40), false, 'a success ends it');
  assert.deepEqual(failing.at(50), []);
  assert.equal(failing.note(a, true, 50), false);
  assert.equal(failing.note(a, true, 60), false);
  assert.equal(failing.note(a, false, 70), false);
  assert.equal(failing.note(a, true, 80), false, 'the success between started the run again');
  assert.equal(failing.note(a, true, 90), false);
  assert.equal(failing.note(a, true, 1_100), true, 'a pause between does not');
  assert.deepEqual(failing.at(2_099), [a]);
  assert.deepEqual(failing.at(2_100), [], 'out of its pause');
  assert.equal(failing.note(a, true, 2_200), true, 'still the same run: failing again at its next failure');
  assert.equal(failing.note(a, true, 62_200), false, 'a run is forgotten a minute after its last failure');
});

test('with a lower threshold (an endpoint disabled at its first or second failure) the run is that long', () => {
  const failing = createFailingEndpoints(1_000, 1);
  assert.equal(failing.note(a, true, 0), true);
});

test('a 410 (gone: the endpoint is disabled at once) makes it failing at once, whatever its run', () => {
  // Its queue was handed back at the 410, but a claim in the next second took a claim's worth of
  // its due deliveries (not only its free connections), and sent more to it before the disable was
  // recorded: 2-3 requests where 1 went, with one connection (scratch run, 200 deliveries).
  const failing = createFailingEndpoints(1_000);
  assert.equal(failing.note(a, true, 0, true), 'disabling');
  assert.deepEqual(failing.at(10), [a]);
  assert.deepEqual(failing.at(1_000), [], 'for its pause, as any failing endpoint');
  assert.equal(failing.note(b, true, 0), false);
  assert.equal(failing.note(b, true, 10, true), 'disabling', 'a 410 after a failure too');
});

test('failures at the disable threshold, however far apart, make it failing and hold it until their records are written', () => {
  // One failure a minute: the run of the pause was 1 at each, so at the threshold the endpoint was
  // not failing, and its queued deliveries went out while the disable was being recorded.
  const failing = createFailingEndpoints(1_000, 3, 4);
  assert.equal(failing.note(a, true, 0), false);
  assert.equal(failing.note(a, true, 61_000), false);
  assert.equal(failing.note(a, true, 122_000), false, 'a run of 1 for the pause');
  assert.deepEqual(failing.held(), []);
  assert.equal(failing.note(a, true, 183_000), 'disabling', 'the 4th in a row');
  assert.deepEqual(failing.at(183_010), [a], 'failing at once');
  assert.deepEqual(failing.held(), [a.endpointId]);
  assert.equal(failing.isHeld(a.endpointId), true);
  assert.equal(failing.note(a, true, 183_020), 'disabling', 'another attempt that was out meanwhile');
  failing.recorded(a.endpointId);
  assert.equal(failing.isHeld(a.endpointId), true, 'until both records are written');
  failing.recorded(a.endpointId);
  assert.deepEqual(failing.held(), []);
  assert.equal(failing.note(a, true, 184_000), true, 'its run starts again (failing still, for the pause)');
  assert.equal(failing.note(b, true, 0), false);
  assert.equal(failing.note(b, false, 61_000), false);
  for (const at of [70_000, 140_000, 210_000])
    assert.equal(failing.note(b, true, at), false, 'a success starts it again');
  assert.equal(failing.note(b, true, 280_000), 'disabling');
});

test('a 429 (not counted towards the disable threshold) leaves the run towards it as it is', () => {
  const failing = createFailingEndpoints(1_000, 3, 3);
  assert.equal(failing.note(a, true, 0), false);
  assert.equal(failing.note(a, true, 10, false, false), false);
  assert.equal(failing.note(a, true, 20, false, false), true, 'failing: 3 in a row');
  assert.deepEqual(failing.held(), [], 'one failure the store counts, not 3');
  assert.equal(failing.note(a, true, 30), true);
  assert.equal(failing.note(a, true, 40), 'disabling', 'the third it counts');
});
