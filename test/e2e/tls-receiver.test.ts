/**
 * Issue 7 item 2, TLS: HTTPS receivers on loopback with certificates made at test time by the
 * openssl CLI. Without HERALD_TLS_CA_FILE a private CA's or a self-signed certificate fails with
 * error kind `tls` (and is retried like any failure); with the CA file configured the same receiver
 * gets its delivery, while a certificate for another name still fails. A bad CA file stops Herald.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type HttpsReceiver,
  makeTestCerts,
  startHttpsReceiver,
  type TestCerts,
} from '../support/test-certs.ts';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-tls-0123456789abcd';
type Body = Record<string, unknown> & { id: string };
interface Attempt {
  number: number;
  outcome: string;
  response: { status: number; body: string } | null;
  error: { kind: string; message: string } | null;
}

let certs: TestCerts;
let signed: HttpsReceiver;
let selfSigned: HttpsReceiver;
let wrongName: HttpsReceiver;
const processes: HeraldProcess[] = [];

before(async () => {
  certs = makeTestCerts();
  signed = await startHttpsReceiver(certs.loopback);
  selfSigned = await startHttpsReceiver(certs.selfSigned);
  wrongName = await startHttpsReceiver(certs.otherName);
});

after(async () => {
  await Promise.all(processes.map((p) => p.dispose()));
  await Promise.all([signed, selfSigned, wrongName].map((r) => r?.close()));
  certs?.remove();
});

async function start(env: Record<string, string> = {}): Promise<HeraldProcess> {
  const herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_POLL_INTERVAL_MS: '50',
      ...env,
    },
  });
  processes.push(herald);
  return herald;
}

/** Creates a project with one endpoint per URL, sends one event, and returns each endpoint's attempts once `count` are in. */
async function deliverTo(herald: HeraldProcess, urls: string[], schedule: number[], count: number) {
  const api = <T = Body>(method: string, path: string, body?: unknown) =>
    call<T>(herald.url, TOKEN, method, path, body);
  const project = await api('POST', '/api/v1/projects', { name: 'tls' });
  assert.equal(project.status, 201);
  const p = project.body.id;
  const eps: Body[] = [];
  for (const url of urls) {
    const ep = await api('POST', `/api/v1/projects/${p}/endpoints`, { url, retrySchedule: schedule });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    eps.push(ep.body);
  }
  const ev = await api('POST', `/api/v1/projects/${p}/events`, { type: 'tls.check', payload: { ok: true } });
  assert.equal(ev.status, 202);
  return Promise.all(
    eps.map((ep, i) =>
      eventually(
        async () => {
          const res = await api<{ data: Attempt[] }>(
            'GET',
            `/api/v1/projects/${p}/endpoints/${ep.id}/attempts`,
          );
          return res.body.data.length >= count && res.body.data.sort((a, b) => a.number - b.number);
        },
        8_000,
        `attempts to ${urls[i]}`,
      ),
    ),
  );
}

describe('TLS receivers', () => {
  test('without a CA file: self-signed and private-CA certificates fail with kind tls, and are retried', async () => {
    const herald = await start();
    const [toSigned, toSelf] = await deliverTo(herald, [signed.url, selfSigned.url], [0.1], 2);
    for (const list of [toSigned!, toSelf!]) {
      assert.equal(list.length, 2, 'a tls failure is retried like any other');
      for (const a of list) {
        assert.equal(a.outcome, 'failed');
        assert.equal(a.response, null);
        assert.equal(a.error?.kind, 'tls', JSON.stringify(a.error));
        assert.match(a.error!.message, /certificate/i);
      }
    }
    assert.equal(signed.requests + selfSigned.requests, 0, 'no request got through a failed handshake');
  });

  test('with HERALD_TLS_CA_FILE: the CA-signed receiver gets its delivery; the wrong name still fails', async () => {
    const herald = await start({ HERALD_TLS_CA_FILE: certs.ca.certFile });
    const before = signed.requests;
    const [ok, mismatch, self] = await deliverTo(herald, [signed.url, wrongName.url, selfSigned.url], [], 1);
    assert.equal(ok![0]!.outcome, 'succeeded', JSON.stringify(ok![0]!.error));
    assert.equal(ok![0]!.response?.status, 200);
    assert.equal(ok![0]!.response?.body, 'secure');
    assert.equal(signed.requests, before + 1);
    assert.equal(
      mismatch![0]!.error?.kind,
      'tls',
      'a trusted CA does not excuse a certificate for another name',
    );
    assert.equal(self![0]!.error?.kind, 'tls', 'the CA file adds trust in its CA only');
    assert.equal(wrongName.requests, 0);
  });

  test('a CA file that is missing or holds no certificate stops herald, naming the variable', async () => {
    const notPem = join(certs.dir, 'not-a-cert.pem');
    writeFileSync(notPem, certs.ca.key); // a key pasted by mistake
    for (const file of [join(certs.dir, 'missing.pem'), notPem]) {
      await assert.rejects(
        startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_TLS_CA_FILE: file }, readyTimeoutMs: 10_000 }),
        (error: Error) => {
          assert.match(error.message, /exited before it was ready/);
          assert.match(error.message, /HERALD_TLS_CA_FILE/);
          return true;
        },
      );
    }
  });
});
