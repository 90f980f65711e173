/**
 * The CLI's words for the API's refusals: the flag or argument the user typed in place of the
 * request field the API names (src/cli/api-errors.ts), on the real commands.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeraldApiError, HeraldNetworkError } from '@herald/client';
import type { Command } from 'commander';
import { noAnswer } from '../../src/cli/api-connection.ts';
import { describeApiError, flagForField } from '../../src/cli/api-errors.ts';
import { endpointsCommand } from '../../src/cli/commands/endpoints.ts';
import { eventTypesCommand } from '../../src/cli/commands/event-types-import.ts';
import { deliveriesCommand, eventsCommand } from '../../src/cli/commands/events.ts';
import { projectsCommand } from '../../src/cli/commands/projects.ts';

const commands = [
  endpointsCommand(),
  eventsCommand(),
  projectsCommand(),
  deliveriesCommand(),
  eventTypesCommand(),
];
const sub = (path: string): Command => {
  const [group, name] = path.split(' ');
  const found = commands.find((c) => c.name() === group)?.commands.find((c) => c.name() === name);
  assert.ok(found, path);
  return found;
};
const refused = (field: string, message: string, status = 400, code = 'HERALD_ERR_VALIDATION') =>
  new HeraldApiError(status, code, `${field}: ${message}`, { field });

describe('CLI: API fields named as flags', () => {
  test('each field maps to the flag or argument of its command', () => {
    const cases: [string, string, string | null][] = [
      ['events list', 'querystring.since', '--since'],
      ['events list', 'querystring.type', '--type'],
      ['events list', 'querystring.limit', '--limit'],
      ['events send', 'body.type', '<type>'],
      ['events send', 'body.payload', '--data'],
      ['events send', 'body.idempotencyKey', '--idempotency-key'],
      ['events send', 'body.callbackUrl', '--callback-url'],
      ['endpoints attempts', 'querystring.eventType', '--type'],
      ['endpoints attempts', 'querystring.until', '--until'],
      ['endpoints stats', 'querystring.bucket', '--bucket'],
      ['endpoints recover', 'body.since', '--since'],
      ['endpoints test', 'body.eventType', '--type'],
      ['endpoints rotate-secret', 'body.graceSeconds', '--grace'],
      ['endpoints create', 'body.url', '<url>'],
      ['endpoints create', 'body.name', '--name'],
      ['endpoints create', 'body.eventTypes.1', '--types'],
      ['endpoints create', 'body.headers.X-A', '--settings'],
      ['endpoints update', 'body.url', '--endpoint-url'],
      ['endpoints update', 'body.method', '--settings'],
      ['projects create', 'body.name', '<name>'],
      ['projects create', 'body.uid', '--uid'],
      ['projects api-key', 'body.name', '--name'],
      // --url, --token and --data-dir are the connection, never a request field.
      ['endpoints disable', 'body.url', null],
      ['events list', 'querystring.url', null],
      ['events list', 'body', null],
      ['events list', 'params.project', null],
    ];
    for (const [path, field, flag] of cases)
      assert.equal(flagForField(field, sub(path)), flag, `${path} ${field}`);
  });

  test('the printed line: status and code, the flag, the reason; the API field when it says more', () => {
    assert.equal(
      describeApiError(
        refused('querystring.since', 'must be an ISO-8601 time or epoch milliseconds'),
        sub('events list'),
      ),
      '400 HERALD_ERR_VALIDATION: --since: must be an ISO-8601 time or epoch milliseconds',
    );
    assert.equal(
      describeApiError(refused('body.headers.X-A', 'a header value may hold …'), sub('endpoints update')),
      '400 HERALD_ERR_VALIDATION: --settings (body.headers.X-A): a header value may hold …',
    );
    assert.equal(
      describeApiError(
        refused('body.method', 'must be equal to one of the allowed values'),
        sub('endpoints create'),
      ),
      '400 HERALD_ERR_VALIDATION: --settings (body.method): must be equal to one of the allowed values',
    );
    const taken = new HeraldApiError(409, 'HERALD_ERR_CONFLICT', 'a project with this uid exists', {
      field: 'body.uid',
    });
    assert.equal(
      describeApiError(taken, sub('projects create')),
      '409 HERALD_ERR_CONFLICT: --uid: a project with this uid exists',
    );
    // The API's `until` in a reason about --since is --until, or now when no --until was given.
    const stats = sub('endpoints stats');
    const tooLong = refused('querystring.since', 'must be at most 90 days before until');
    assert.equal(
      describeApiError(tooLong, stats),
      '400 HERALD_ERR_VALIDATION: --since: must be at most 90 days before now (the default --until)',
    );
    stats.setOptionValue('until', '2026-12-01T00:00:00Z');
    try {
      assert.equal(
        describeApiError(tooLong, stats),
        '400 HERALD_ERR_VALIDATION: --since: must be at most 90 days before --until',
      );
    } finally {
      stats.setOptionValue('until', undefined);
    }
    const none = new HeraldApiError(404, 'HERALD_ERR_NOT_FOUND', 'no such endpoint');
    assert.equal(describeApiError(none, sub('endpoints get')), '404 HERALD_ERR_NOT_FOUND: no such endpoint');
  });
});

describe('CLI: a request Herald did not answer', () => {
  test('a timeout names the URL, where it came from and the seconds, not the client option timeoutMs the CLI has no flag for', () => {
    // As the client words it (packages/client/src/transport.ts).
    const timedOut = new HeraldNetworkError(
      'HERALD_CLIENT_TIMEOUT',
      'GET /api/v1/projects',
      'no answer within timeoutMs, 30000 ms, 1 try',
      1,
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    );
    const fromFlag = noAnswer(timedOut, { url: 'http://127.0.0.1:9000', token: 't' }, {});
    assert.equal(
      fromFlag?.message,
      'no answer from Herald at http://127.0.0.1:9000 (from --url) within 30 s (GET /api/v1/projects, 1 try). Is `herald serve` there overloaded or stuck? Its log has the requests it took',
    );
    const fromEnv = noAnswer(timedOut, {}, { HERALD_URL: 'http://u:p@127.0.0.1:9000' });
    assert.match(
      fromEnv?.message ?? '',
      /^no answer from Herald at http:\/\/\*\*\*@127\.0\.0\.1:9000\/ \(from HERALD_URL\) within 30 s/,
    );
    assert.equal(noAnswer(new Error('x'), {}, {}), null);
  });
});
