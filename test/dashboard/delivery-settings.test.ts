/**
 * The endpoint form's timeout and retry-schedule validation and hints follow the installation's
 * settings (GET /api/v1/installation) and the project's own schedule, not Herald's built-in
 * defaults (seed-parity report: 45000 ms refused though the API took it; "Empty: 5000 ms" and
 * "5 s, 5 min, …" whatever the settings).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeliverySettings } from '../../src/dashboard/app/api/types.ts';
import {
  deliveryHints,
  EMPTY_FORM,
  formFromEndpoint,
  inputFromForm,
  validateForm,
} from '../../src/dashboard/app/endpoint-form-state.ts';

const TUNED: DeliverySettings = {
  defaultTimeoutMs: 2000,
  maxTimeoutMs: 60000,
  retrySchedule: [10, 20],
  retryJitter: 0.2,
};
const form = (fields: Partial<typeof EMPTY_FORM>) => ({
  ...EMPTY_FORM,
  url: 'https://x.example/h',
  ...fields,
});

describe('endpoint form: delivery settings', () => {
  test('the timeout is checked against the installation’s maximum', () => {
    const limits = { maxTimeoutMs: TUNED.maxTimeoutMs };
    assert.deepEqual(validateForm(form({ timeoutMs: '45000' }), limits), {});
    assert.deepEqual(validateForm(form({ timeoutMs: '60000' }), limits), {});
    assert.equal(
      validateForm(form({ timeoutMs: '60001' }), limits).timeoutMs,
      'Whole milliseconds from 100 to 60000.',
    );
    assert.equal(
      validateForm(form({ timeoutMs: '99' }), limits).timeoutMs,
      'Whole milliseconds from 100 to 60000.',
    );
    // Unknown maximum: only the lower bound here, the API checks the rest.
    assert.deepEqual(validateForm(form({ timeoutMs: '45000' })), {});
    assert.equal(validateForm(form({ timeoutMs: '1.5' })).timeoutMs, 'Whole milliseconds, 100 or more.');
  });

  test('a timeout emptied while editing is sent as the installation’s default, which must be known', () => {
    const edited = form({ timeoutMs: '' });
    assert.equal(inputFromForm(edited, 'update', 2000).timeoutMs, 2000);
    assert.equal(inputFromForm(edited, 'create', 2000).timeoutMs, undefined);
    assert.deepEqual(validateForm(edited, { maxTimeoutMs: 60000, defaultTimeoutMs: 2000 }, 'update'), {});
    assert.deepEqual(validateForm(edited, { maxTimeoutMs: null }), {});
    assert.match(validateForm(edited, { maxTimeoutMs: null }, 'update').timeoutMs ?? '', /Enter a timeout/);
  });

  test('hints give the installation’s defaults, or the project’s own schedule', () => {
    const tuned = deliveryHints(EMPTY_FORM, null, TUNED);
    assert.equal(tuned.timeout, 'Per attempt, connect + response; from 100 to 60000 ms. Empty: 2000 ms.');
    assert.equal(tuned.timeoutPlaceholder, '2000');
    assert.equal(
      tuned.schedule,
      "Delays after the first try, or none. Empty: this installation's default (10 s, 20 s).",
    );
    assert.equal(tuned.schedulePlaceholder, '10, 20');
    const project = deliveryHints(EMPTY_FORM, [1, 1], TUNED);
    assert.equal(
      project.schedule,
      "Delays after the first try, or none. Empty: the project's schedule (1 s, 1 s).",
    );
    assert.equal(project.schedulePlaceholder, '1, 1');
    assert.match(
      deliveryHints(EMPTY_FORM, [], TUNED).schedule,
      /the project's schedule \(no retries, one try only\)/,
    );
    assert.equal(
      deliveryHints(form({ retrySchedule: '5, 300' }), null, { ...TUNED, retryJitter: 0.1 }).schedule,
      'Retries after 5 s, 5 min (±10 %).',
    );
    assert.equal(
      deliveryHints(form({ retrySchedule: '5' }), null, { ...TUNED, retryJitter: 0 }).schedule,
      'Retries after 5 s.',
    );
  });

  test('without the settings the hints claim no number', () => {
    const unknown = deliveryHints(EMPTY_FORM, null, null);
    assert.doesNotMatch(`${unknown.timeout} ${unknown.schedule}`, /\d/);
    assert.equal(unknown.timeoutPlaceholder, '');
  });
});

describe('endpoint form: an endpoint without retries', () => {
  const stored = (retrySchedule: number[] | null) =>
    formFromEndpoint({
      id: 'ep_1',
      projectId: 'prj_1',
      url: 'https://x.example/h',
      name: 'h',
      description: '',
      eventTypes: [],
      method: 'POST',
      headers: {},
      envelope: 'standard',
      status: 'active',
      dev: false,
      signature: { scheme: 'standard' },
      timeoutMs: null,
      retrySchedule,
      rateLimit: null,
    } as unknown as Parameters<typeof formFromEndpoint>[0]);

  test('keeps no retries through an edit (blank would be the default schedule)', () => {
    const none = stored([]);
    assert.equal(none.retrySchedule, 'none');
    assert.deepEqual(inputFromForm(none, 'update').retrySchedule, []);
    assert.equal(deliveryHints(none, null, TUNED).schedule, 'No retries: one try only.');
    assert.equal(stored(null).retrySchedule, '');
    assert.equal(inputFromForm(stored(null), 'update').retrySchedule, null);
    assert.deepEqual(inputFromForm(stored([5, 300]), 'update').retrySchedule, [5, 300]);
  });

  test('a step of 0 is refused in the form, as the API refuses it', () => {
    assert.match(validateForm(form({ retrySchedule: '0, 5' })).retrySchedule ?? '', /above 0/);
    assert.equal(validateForm(form({ retrySchedule: 'None' })).retrySchedule, undefined);
  });
});
