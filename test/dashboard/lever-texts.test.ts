/** What the recover and replay panels say of the server's answer (src/dashboard/app/lever-texts.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTime } from '../../src/dashboard/app/format.ts';
import { recoveredText, replayedText } from '../../src/dashboard/app/lever-texts.ts';

const at = '2026-12-01T10:00:00.000Z';

test('a recover that covered its range says how many; one that stopped says so and from when to go on', () => {
  assert.equal(recoveredText(1, null), '1 failed delivery queued again.');
  assert.equal(recoveredText(0, null), '0 failed deliveries queued again.');
  const stopped = recoveredText(41_000, at);
  assert.ok(stopped.startsWith('41,000 failed deliveries queued again. The recover stopped there'), stopped);
  assert.ok(
    stopped.endsWith(
      `"Failed since" is now ${formatTime(at)}, where it stopped: press Recover again for the rest.`,
    ),
    stopped,
  );
});

test('a recover that stopped says it stops when the endpoint is disabled meanwhile, as well as out of time', () => {
  // Since fe8984f a recover stops at the batch that finds its endpoint disabled, answering where it
  // stopped: the text said only "one request runs at most about 20 s", so a recover cut short by a
  // disable read as out of time, and pressing Recover again as the way on.
  const stopped = recoveredText(3, at);
  assert.match(stopped, /about 20 s/);
  assert.match(stopped, /disabled meanwhile/);
  assert.match(stopped, /enable it first/);
});

test('a replay likewise', () => {
  assert.equal(replayedText(1, null), '1 missed event queued for this endpoint.');
  // With separators, as the enable's "1,234 parked deliveries resume" (it read "12000").
  assert.equal(replayedText(12_000, null), '12,000 missed events queued for this endpoint.');
  assert.ok(
    replayedText(2, at).endsWith(
      `"Events since" is now ${formatTime(at)}, where it stopped: press Replay again for the rest.`,
    ),
  );
});
