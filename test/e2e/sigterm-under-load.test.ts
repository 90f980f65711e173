/**
 * SIGTERM while events pour in over kept-alive connections: every request the server took gets an
 * answer (202, or 503 HERALD_ERR_SHUTTING_DOWN to send again), none has its connection reset
 * under it, and every 202 is delivered after the restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { api, startHerald, startReceiver } from './harness.ts';

const ADMIN = 'e2e-admin-token-0123456789abcdef';
const CONNECTIONS = 16;
/** Events accepted before the signal: every connection busy sending (a request on its way at the signal). */
const ACCEPTED_BEFORE_SIGNAL = 100;

test('SIGTERM under keep-alive ingest load: 202 or 503 for every request, no reset, every 202 delivered after the restart', async () => {
  const receiver = await startReceiver();
  let herald = await startHerald({
    env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' },
  });
  const agent = new Agent({ connections: CONNECTIONS });
  try {
    const project = await api<{ id: string }>(herald.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'Load',
    });
    const endpoint = await api(herald.url, ADMIN, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
      url: `${receiver.url}/hooks`,
    });
    assert.equal(endpoint.status, 201);
    const eventsUrl = `${herald.url}/api/v1/projects/${project.body.id}/events`;
    const accepted = new Set<string>();
    const answers = new Map<string, number>();
    const count = (what: string) => answers.set(what, (answers.get(what) ?? 0) + 1);
    let sending = true;
    // Each loop sends its next event as soon as the last is answered, so that at the signal most
    // connections have a request on its way; after an error it stops (the port is closed).
    const loop = async (n: number) => {
      for (let i = 0; sending; i++) {
        try {
          const response = await request(eventsUrl, {
            method: 'POST',
            dispatcher: agent,
            headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'load.tick', payload: { n, i } }),
          });
          const body = (await response.body.json()) as { id?: string; error?: { code: string } };
          count(String(response.statusCode));
          if (response.statusCode === 202 && body.id) accepted.add(body.id);
          else assert.equal(body.error?.code, 'HERALD_ERR_SHUTTING_DOWN', JSON.stringify(body));
        } catch (error) {
          count((error as { code?: string }).code ?? String(error));
          return;
        }
      }
    };
    const loops = Array.from({ length: CONNECTIONS }, (_, n) => loop(n));
    // The signal once over 100 events are in, rather than after 1.5 s: on a loaded 2-core machine (load
    // 15-16) 1.5 s took 34-109, and the test failed on its count, not on a stop.
    let loopsEnded = false;
    const ended = Promise.all(loops).then(() => {
      loopsEnded = true;
    });
    while (accepted.size <= ACCEPTED_BEFORE_SIGNAL) {
      if (loopsEnded) assert.fail(`the senders stopped before the signal: ${JSON.stringify([...answers])}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const exit = await herald.kill('SIGTERM');
    sending = false;
    await ended;
    assert.deepEqual(exit, { code: 0, signal: null });
    const unexpected = [...answers].filter(([what]) => !['202', '503', 'ECONNREFUSED'].includes(what));
    assert.deepEqual(unexpected, [], `answers: ${JSON.stringify([...answers])}`);

    herald = await herald.restart();
    await receiver.waitFor(accepted.size, 60_000);
    const delivered = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));
    assert.deepEqual(
      [...accepted].filter((id) => !delivered.has(id)),
      [],
    );
  } finally {
    await agent.close();
    await herald.dispose();
    await receiver.close();
  }
});
