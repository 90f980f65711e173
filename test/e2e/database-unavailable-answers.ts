/**
 * What a process that cannot use its database answers: GET `path` `times` over, each 503
 * HERALD_ERR_DATABASE_UNAVAILABLE with Retry-After (not a 500), and /readyz 503.
 */
import assert from 'node:assert/strict';

export async function assertDatabaseUnavailable(baseUrl: string, token: string, path: string, times = 3) {
  for (let i = 0; i < times; i++) {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(res.status, 503, JSON.stringify(body));
    assert.equal(body.error.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
    assert.ok(res.headers.get('retry-after'));
  }
  assert.equal((await fetch(`${baseUrl}/readyz`)).status, 503);
}
