/**
 * Where the dashboard shows the API's errors about a field: next to the input it came from (the
 * endpoint form's inputs, the Events and History filters), worded without the field's API name, and
 * with "Try again" only when sending the same request again can work.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, canRetry, toApiError } from '../../src/dashboard/app/api/api-error.ts';
import { errorMessage, fieldMessage } from '../../src/dashboard/app/api/error-messages.ts';
import { EMPTY_FORM, formFieldOf, hasInput } from '../../src/dashboard/app/endpoint-form-state.ts';
import { filterErrors } from '../../src/dashboard/app/filter-errors.ts';

/** An error as the API answers it: `{"error": {code, message, details: {field}}}`. */
const refused = (status: number, field: string, message: string) =>
  new ApiError(status, 'HERALD_ERR_VALIDATION', `${field}: ${message}`, { field });

describe('API errors in the dashboard', () => {
  test('a message that starts with its field does not name it again', () => {
    const long = refused(400, 'body.name', 'must NOT have more than 200 characters');
    assert.equal(errorMessage(long), 'body.name: must NOT have more than 200 characters');
    assert.equal(fieldMessage(long), 'must NOT have more than 200 characters');
    const taken = new ApiError(409, 'HERALD_ERR_CONFLICT', 'a project with this uid exists', {
      field: 'body.uid',
    });
    assert.equal(errorMessage(taken), 'a project with this uid exists (body.uid)');
  });

  test("a server error's request id follows its message, for the operator's logs", () => {
    const answer = {
      error: { code: 'HERALD_ERR_INTERNAL', message: 'internal error', requestId: '2zucpr0e-2' },
    };
    const error = toApiError(500, answer, JSON.stringify(answer));
    assert.equal(error.requestId, '2zucpr0e-2');
    assert.equal(errorMessage(error), 'internal error (request 2zucpr0e-2)');
    assert.equal(
      errorMessage(toApiError(404, { error: { code: 'X', message: 'no such endpoint' } }, '')),
      'no such endpoint',
    );
  });

  test('only what may work when sent again offers "Try again"', () => {
    assert.equal(canRetry(refused(400, 'querystring.since', 'x')), false);
    assert.equal(canRetry(refused(422, 'querystring.since', 'must not be after until')), false);
    assert.equal(canRetry(new ApiError(404, 'HERALD_ERR_NOT_FOUND', 'no such endpoint')), false);
    assert.equal(canRetry(new ApiError(0, 'NETWORK', 'unreachable')), true);
    assert.equal(canRetry(new ApiError(503, 'HERALD_ERR_BUSY', 'busy')), true);
    assert.equal(canRetry(new ApiError(429, 'HERALD_ERR_RATE_LIMITED', 'slow down')), true);
    assert.equal(canRetry(new TypeError('failed to fetch')), true);
  });

  test("the endpoint form's inputs for the API's body fields, nested ones included", () => {
    const cases: [string, ReturnType<typeof formFieldOf>][] = [
      ['body.name', { key: 'name', prefix: '' }],
      ['body.url', { key: 'url', prefix: '' }],
      ['body.description', { key: 'description', prefix: '' }],
      ['body.headers.X-A', { key: 'headers', prefix: 'X-A: ' }],
      ['body.headers.x.with.dots', { key: 'headers', prefix: 'x.with.dots: ' }],
      ['body.headers', { key: 'headers', prefix: '' }],
      ['body.signature.signatureHeader', { key: 'signatureHeader', prefix: '' }],
      ['body.signature.timestampHeader', { key: 'timestampHeader', prefix: '' }],
      ['body.signature.key', { key: 'signingKey', prefix: '' }],
      ['body.signature', { key: 'scheme', prefix: '' }],
      ['body.rateLimit.burst', { key: 'rateBurst', prefix: '' }],
      ['body.rateLimit.perSecond', { key: 'ratePerSecond', prefix: '' }],
      ['body.retrySchedule.1', { key: 'retrySchedule', prefix: 'Step 2: ' }],
      ['body.eventTypes.3', { key: 'eventTypes', prefix: '' }],
      ['body.timeoutMs', { key: 'timeoutMs', prefix: '' }],
      ['body.colour', null],
      ['body.constructor', null],
      ['querystring.since', null],
      ['name', null],
    ];
    for (const [field, want] of cases) assert.deepEqual(formFieldOf(field), want, field);
  });

  test('an input the form does not show for the scheme leaves the error to the banner', () => {
    assert.equal(hasInput(EMPTY_FORM, 'create', 'signatureHeader'), false);
    assert.equal(hasInput({ ...EMPTY_FORM, scheme: 'hmac-sha256' }, 'create', 'signatureHeader'), true);
    assert.equal(hasInput(EMPTY_FORM, 'update', 'secret'), false);
    assert.equal(hasInput(EMPTY_FORM, 'create', 'secret'), true);
  });

  test('filter errors: since after until, and times or types the API refuses, go to their filter', () => {
    assert.deepEqual(filterErrors(refused(422, 'querystring.since', 'must not be after until')), {
      since: 'Must not be later than To.',
    });
    assert.deepEqual(filterErrors(refused(400, 'querystring.until', 'must be an ISO-8601 time')), {
      until: 'Must be an ISO-8601 time',
    });
    assert.deepEqual(filterErrors(refused(400, 'querystring.eventType', 'too long')), { type: 'Too long' });
    assert.deepEqual(filterErrors(refused(400, 'querystring.type', 'too long')), { type: 'Too long' });
    assert.equal(filterErrors(refused(400, 'querystring.cursor', 'not a cursor')), null);
    assert.equal(filterErrors(new ApiError(0, 'NETWORK', 'unreachable')), null);
  });
});
