/** A count and its noun (src/domain/counted.ts), and messages that say a count of 1 with it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validationWords } from '../../src/api/validation-words.ts';
import { endpointDisabledLine } from '../../src/delivery/endpoint-disabled-line.ts';
import { counted } from '../../src/domain/counted.ts';
import { formatBytes } from '../../src/store/sqlite/copy-check.ts';

test('counted: singular for 1 only; s dropped, ies made y, only in the last word', () => {
  assert.equal(counted(1, 'events'), '1 event');
  assert.equal(counted(0, 'events'), '0 events');
  assert.equal(counted(2, 'events'), '2 events');
  assert.equal(counted(1, 'pending deliveries'), '1 pending delivery');
  assert.equal(counted(2, 'pending deliveries'), '2 pending deliveries');
  assert.equal(counted(1, 'consecutive failed attempts'), '1 consecutive failed attempt');
  assert.equal(counted(1, 'entries'), '1 entry');
  assert.equal(counted(1, 'operational events'), '1 operational event');
});

test('an endpoint disabled at HERALD_FAILURE_THRESHOLD=1 says 1 consecutive failed attempt', () => {
  assert.match(
    endpointDisabledLine('consecutive_failures', 1),
    /: 1 consecutive failed attempt to its receiver/,
  );
  assert.match(
    endpointDisabledLine('consecutive_failures', 10),
    /: 10 consecutive failed attempts to its receiver/,
  );
});

test('a limit of 1 in a 400 and a size of 1 byte are said in the singular', () => {
  const words = (keyword: string, limit: number) =>
    validationWords({ keyword, instancePath: '/filter', params: { limit } }, 'body').message;
  assert.equal(words('maxItems', 1), 'must have at most 1 item');
  assert.equal(words('maxItems', 50), 'must have at most 50 items');
  assert.equal(words('maxLength', 1), 'must be at most 1 character long');
  assert.equal(words('maxProperties', 1), 'must have at most 1 entry');
  assert.equal(formatBytes(1), '1 byte');
  assert.equal(formatBytes(512), '512 bytes');
});
