/** Which endpoints a claim takes only up to their free connections (failing-endpoints.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFailingEndpoints } from '../../src/delivery/failing-endpoints.ts';

const a = { endpointId: 'ep_a', projectId: 'prj_1' };
const b = { endpointId: 'ep_b', projectId: 'prj_2' };

test('a failure starts a pause that ends pauseMs after the last failure', () => {
  const failing = createFailingEndpoints(1_000);
  failing.note(a, true, 0);
  assert.deepEqual(failing.at(999), [a]);
  failing.note(a, true, 900); // another failure extends it
  assert.deepEqual(failing.at(1_899), [a]);
  assert.deepEqual(failing.at(1_900), []);
  assert.deepEqual(failing.at(0), [], 'forgotten once over');
});

test('a success ends the pause at once; other endpoints keep theirs', () => {
  const failing = createFailingEndpoints(1_000);
  failing.note(a, true, 0);
  failing.note(b, true, 10);
  failing.note(a, false, 20);
  assert.deepEqual(failing.at(30), [b]);
  failing.note(a, false, 40); // a success of an endpoint that was not failing changes nothing
  assert.deepEqual(failing.at(50), [b]);
});

test('endpoints whose pauses ended are dropped while the others stay, whatever the order', () => {
  const failing = createFailingEndpoints(100);
  failing.note(a, true, 0);
  failing.note(b, true, 50);
  failing.note(a, true, 60); // a's last failure is now after b's
  assert.deepEqual(failing.at(149), [b, a]);
  assert.deepEqual(failing.at(150), [a]);
  assert.deepEqual(failing.at(160), []);
});
