/**
 * Endpoint secrets never sit in the data directory in plaintext: the embedded default seals them
 * with a key file it creates (mode 0600), and deliveries still verify after a restart.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { api, startHerald } from './harness.ts';
import { startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-at-rest-token-0123456789abcdef';

test('no plaintext endpoint secret in the data directory; the key file is 0600; restart still signs', async () => {
  const receiver = await startScriptedReceiver();
  let herald = await startHerald({
    env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
  });
  try {
    const p = await api<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', { name: 'at-rest' });
    const imported = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const ep = await api<{ id: string; secret: string }>(
      herald.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${p.body.id}/endpoints`,
      {
        url: receiver.url,
        secret: imported,
      },
    );
    assert.equal(ep.status, 201);
    const rotated = await api<{ secret: string }>(
      herald.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${p.body.id}/endpoints/${ep.body.id}/secret/rotate`,
      { graceSeconds: 60 },
    );
    herald = await herald.restart();
    await api(herald.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/events`, {
      type: 'x',
      payload: { a: 1 },
    });
    const [hit] = await receiver.waitFor(1);
    for (const secret of [imported, rotated.body.secret]) {
      new Webhook(secret).verify(hit!.body, {
        'webhook-id': String(hit!.headers['webhook-id']),
        'webhook-timestamp': String(hit!.headers['webhook-timestamp']),
        'webhook-signature': String(hit!.headers['webhook-signature']),
      });
    }
    await herald.kill('SIGTERM');
    const files = readdirSync(herald.dataDir);
    assert.ok(files.includes('encryption-key'));
    assert.equal(statSync(join(herald.dataDir, 'encryption-key')).mode & 0o777, 0o600);
    for (const file of files.filter((f) => f.startsWith('herald.db'))) {
      const bytes = readFileSync(join(herald.dataDir, file)).toString('latin1');
      for (const secret of [imported, rotated.body.secret]) {
        assert.ok(!bytes.includes(secret), `${file} holds a secret in plaintext`);
        assert.ok(!bytes.includes(secret.slice(6, 26)), `${file} holds part of a secret`);
      }
    }
  } finally {
    await herald.dispose();
    await receiver.close();
  }
});
