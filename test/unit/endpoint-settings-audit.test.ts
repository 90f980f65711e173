/**
 * Endpoints stored before the API refused their signature settings are named at start, one line
 * each (at most AUDIT_LINES_MAX, then a count), with what is wrong; others are not. Real SQLite
 * store; the endpoints are written straight to it, as an older Herald's API had accepted them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUDIT_LINES_MAX, auditEndpointSettings } from '../../src/operator/endpoint-settings-audit.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput } from '../store/helpers.ts';

test('endpoints with settings the API now refuses are logged with the problem; fine ones are not', async () => {
  const store = await openStore('sqlite::memory:');
  try {
    const now = Date.now();
    const a = await store.createProject({ name: 'a' }, now);
    const b = await store.createProject({ name: 'b' }, now);
    const url = 'http://127.0.0.1:9/h';
    const fine = await store.createEndpoint(
      endpointInput(a.id, { url }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now,
    );
    const get = await store.createEndpoint(
      endpointInput(a.id, { url, method: 'GET', signature: { scheme: 'sha256-body' } }),
      'plain-secret-value',
      now,
    );
    const header = await store.createEndpoint(
      endpointInput(b.id, { url, signature: { scheme: 'hmac-sha256', signatureHeader: 'Connection' } }),
      'plain-secret-value',
      now,
    );
    // Its signature header named as the timestamp's default: the requests carried no signature.
    const shared = await store.createEndpoint(
      endpointInput(b.id, {
        url,
        signature: { scheme: 'hmac-sha256', signatureHeader: 'X-Webhook-Timestamp' },
      }),
      'plain-secret-value',
      now,
    );
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const log = {
      warn: (fields: object, message: string) =>
        lines.push({ fields: fields as Record<string, unknown>, message }),
    };
    assert.equal(await auditEndpointSettings(store, log), 3);
    assert.deepEqual(lines.map((l) => l.fields.endpointId).sort(), [get.id, header.id, shared.id].sort());
    assert.match(
      lines.find((l) => l.fields.endpointId === shared.id)!.message,
      /both are x-webhook-timestamp/,
    );
    assert.match(lines.find((l) => l.fields.endpointId === get.id)!.message, /cannot be used with GET/);
    assert.match(lines.find((l) => l.fields.endpointId === header.id)!.message, /Connection/i);
    assert.ok(!lines.some((l) => l.fields.endpointId === fine.id));

    for (let i = 0; i < AUDIT_LINES_MAX + 3; i++) {
      await store.createEndpoint(
        endpointInput(b.id, { url, method: 'GET', signature: { scheme: 'sha256-body' } }),
        'plain-secret-value',
        now,
      );
    }
    lines.length = 0;
    assert.equal(await auditEndpointSettings(store, log), AUDIT_LINES_MAX + 6);
    assert.equal(lines.length, AUDIT_LINES_MAX + 1, 'one line per endpoint up to the cap, then a count');
    assert.match(lines.at(-1)!.message, /^6 more endpoints/);
  } finally {
    await store.close();
  }
});
