/** What of a database URL reaches logs and the console (src/config/redact-database-url.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactDatabaseUrl } from '../../src/config/redact-database-url.ts';

test('the password in the user part is masked', () => {
  assert.equal(
    redactDatabaseUrl('postgres://herald:hunter2@db:5432/herald'),
    'postgres://herald:***@db:5432/herald',
  );
});

test('credentials in the query string are masked, TLS paths and modes are kept', () => {
  const shown = redactDatabaseUrl(
    'postgresql://herald@db/herald?sslmode=verify-full&sslrootcert=/etc/ca.pem&sslkey=/etc/client.key' +
      '&sslpassword=keypass&password=hunter2&PassWord=again',
  );
  for (const secret of ['keypass', 'hunter2', 'again']) assert.ok(!shown.includes(secret), shown);
  const params = new URL(shown).searchParams;
  assert.equal(params.get('sslpassword'), '***');
  assert.equal(params.get('password'), '***');
  assert.equal(params.get('sslmode'), 'verify-full');
  assert.equal(params.get('sslrootcert'), '/etc/ca.pem');
  assert.equal(params.get('sslkey'), '/etc/client.key');
});

test('SQLite URLs are unchanged; an unparseable URL shows nothing of itself', () => {
  assert.equal(redactDatabaseUrl('sqlite:./herald-data/herald.db'), 'sqlite:./herald-data/herald.db');
  assert.equal(redactDatabaseUrl('postgres://a:b@[bad/x'), 'postgres://(unparseable URL)');
});
