/**
 * Issue 7 item 4, end to end: a running `herald serve` that may reach exactly one loopback host
 * (HERALD_ALLOW_NETWORKS=127.0.0.2/32), attacked with loopback addresses outside that allowlist in
 * every spelling, as endpoint URLs, as a PATCHed URL, as a callbackUrl and as redirect targets of
 * the allowed receiver. An address URL is refused when it is accepted (422 naming the field); the
 * same URLs accepted while the allowlist was wider, then delivered by a herald restarted with the
 * narrow one, are refused at delivery (error kind `blocked`); the refused receivers never see a
 * connection.
 * A herald without any allowlist refuses the allowed host too. Only loopback is ever contacted, and
 * no DNS is asked (localhost names are answered by the guard itself).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HostileServer, httpServer } from '../support/hostile-servers.ts';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-ssrf-0123456789abc';
type Body = Record<string, unknown> & { id: string };
interface Attempt {
  outcome: string;
  durationMs: number;
  request: { url: string };
  response: { status: number; headers: Record<string, string> } | null;
  error: { kind: string; message: string } | null;
}

const servers: HostileServer[] = [];
const processes: HeraldProcess[] = [];
/** Receivers that must never be reached: on 127.0.0.1 and on ::1. */
let blocked4: HostileServer;
let blocked6: HostileServer;
/** The one receiver the allowlist opens, on 127.0.0.2. */
let allowed: HostileServer;
let redirects: HostileServer;

async function server(made: Promise<HostileServer>) {
  const s = await made;
  servers.push(s);
  return s;
}

before(async () => {
  blocked4 = await server(httpServer((_req, res) => res.end('reached 127.0.0.1'), '127.0.0.1'));
  blocked6 = await server(httpServer((_req, res) => res.end('reached ::1'), '::1'));
  allowed = await server(
    httpServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('allowed'));
    }, '127.0.0.2'),
  );
  // /to/<status>/<url-encoded location>: answers that redirect
  redirects = await server(
    httpServer((req, res) => {
      const [, , status, location] = (req.url ?? '').split('/');
      res.writeHead(Number(status), { location: decodeURIComponent(location ?? '') }).end('moved');
    }, '127.0.0.2'),
  );
});

after(async () => {
  await Promise.all(processes.map((p) => p.dispose()));
  await Promise.all(servers.map((s) => s.close()));
});

/**
 * A herald with `allow` as HERALD_ALLOW_NETWORKS (unset when null), and a project on it; with
 * `reuse`, on that data directory and its project.
 */
async function heraldWith(
  allow: string | null,
  reuse?: { dataDir: string; project: string },
  args: string[] = [],
) {
  const herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_POLL_INTERVAL_MS: '50',
      ...(allow === null ? {} : { HERALD_ALLOW_NETWORKS: allow }),
    },
    args,
    ...(reuse ? { dataDir: reuse.dataDir } : {}),
  });
  processes.push(herald);
  const api = <T = Body>(method: string, path: string, body?: unknown) =>
    call<T>(herald.url, TOKEN, method, path, body);
  let p = reuse?.project ?? '';
  if (!reuse) {
    const project = await api('POST', '/api/v1/projects', { name: 'ssrf' });
    assert.equal(project.status, 201);
    p = project.body.id;
  }

  /** Creates an endpoint (single try): its id, or null when creation refused the URL with a 422 naming it. */
  const create = async (url: string): Promise<string | null> => {
    const res = await api<Body & { error?: { code: string; message: string; details?: unknown } }>(
      'POST',
      `/api/v1/projects/${p}/endpoints`,
      { url, retrySchedule: [] },
    );
    if (res.status === 422 || res.status === 400) {
      assert.match(JSON.stringify(res.body.error), /url/, `${url}: the refusal names the url`);
      return null;
    }
    assert.equal(res.status, 201, `${url}: ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const attempts = (endpointId: string) =>
    eventually(
      async () => {
        const res = await api<{ data: Attempt[] }>(
          'GET',
          `/api/v1/projects/${p}/endpoints/${endpointId}/attempts`,
        );
        return res.body.data.length > 0 && res.body.data;
      },
      8_000,
      `an attempt of ${endpointId}`,
    );
  const send = async (body: Record<string, unknown> = {}) => {
    const res = await api('POST', `/api/v1/projects/${p}/events`, {
      type: 'ssrf.probe',
      payload: {},
      ...body,
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body;
  };
  return { herald, api, p, create, attempts, send };
}

/**
 * What delivery's own guard does with URLs that accepting them would now refuse (an allowlist
 * narrowed after they were accepted, or an API process configured apart): endpoints for `urls`
 * and one event (with `callbackUrl`, if given) accepted by an API-only herald that allowed every
 * address, then delivered by a herald on the same database with `allow`.
 */
async function acceptedThenNarrowed(urls: string[], allow: string | null, callbackUrl?: string) {
  const wide = await heraldWith('0.0.0.0/0,::/0', undefined, ['--role', 'api']);
  const ids: [string, string][] = [];
  for (const url of urls) {
    const id = await wide.create(url);
    if (id) ids.push([url, id]);
  }
  const event = await wide.send(callbackUrl ? { callbackUrl } : {});
  await wide.herald.kill('SIGTERM');
  const h = await heraldWith(allow, { dataDir: wide.herald.dataDir, project: wide.p });
  return { h, ids, event };
}

/** The single attempt of each endpoint is a `blocked` failure without a response, made quickly. */
function assertBlocked(url: string, list: Attempt[]) {
  assert.equal(list.length, 1, `${url}: one try (schedule []), got ${list.length}`);
  const [a] = list;
  assert.equal(a!.outcome, 'failed', url);
  assert.equal(a!.response, null, `${url}: got a response ${JSON.stringify(a!.response)}`);
  assert.equal(a!.error?.kind, 'blocked', `${url}: ${JSON.stringify(a!.error)}`);
  assert.match(a!.error!.message, /not allowed/);
  assert.ok(a!.durationMs < 1_000, `${url}: refusing took ${a!.durationMs} ms`);
}

describe('SSRF guard, HERALD_ALLOW_NETWORKS=127.0.0.2/32', () => {
  let h: Awaited<ReturnType<typeof heraldWith>>;
  before(async () => {
    h = await heraldWith('127.0.0.2/32');
  });

  test('every spelling of a loopback address outside the allowlist is refused, and nothing reaches it', async () => {
    const p4 = blocked4.port;
    const p6 = blocked6.port;
    const urls = [
      `http://127.0.0.1:${p4}/`,
      `http://0x7f000001:${p4}/`, // hex
      `http://0X7F000001:${p4}/`,
      `http://2130706433:${p4}/`, // decimal
      `http://0177.0.0.1:${p4}/`, // octal
      `http://017700000001:${p4}/`,
      `http://0x7f.1:${p4}/`,
      `http://0x7f.0.0.0x1:${p4}/`,
      `http://127.1:${p4}/`, // short forms
      `http://127.0.1:${p4}/`,
      `http://127.0.0.1.:${p4}/`, // trailing dots
      `http://127.0.0.1..:${p4}/`,
      `http://%31%32%37.0.0.1:${p4}/`, // percent-encoded
      `http://127.0.0.3:${p4}/`, // the allowed host's neighbours
      `http://127.0.0.1:${allowed.port}/`,
      `http://127.255.255.254:${p4}/`,
      `http://[::ffff:127.0.0.1]:${p4}/`, // IPv4-mapped
      `http://[::ffff:7f00:1]:${p4}/`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${p4}/`,
      `http://[::ffff:127.0.0.3]:${p4}/`,
      `http://0:${p4}/`, // "this host"
      `http://0.0.0.0:${p4}/`,
      `http://[::]:${p4}/`,
      `http://localhost:${p4}/`, // names that are loopback by definition
      `http://localhost.:${p4}/`,
      `http://LOCALHOST:${p4}/`,
      `http://api.localhost:${p4}/`,
      `https://127.0.0.1:${p4}/`, // refused before any TLS
      `http://[::1]:${p6}/`, // IPv6 loopback
      `http://[0:0:0:0:0:0:0:1]:${p6}/`,
      `http://[0000::1]:${p6}/`,
      `http://[::1%25lo]:${p6}/`, // zone id: not a valid URL host
      `http://localhost:${p6}/`,
    ];
    for (const url of urls) assert.equal(await h.create(url), null, `${url}: refused when saved`);
    const refused = await h.api<{ error: { message: string } }>('POST', `/api/v1/projects/${h.p}/endpoints`, {
      url: `http://0x7f000001:${p4}/`,
    });
    assert.equal(refused.status, 422);
    assert.match(
      refused.body.error.message,
      /^body\.url: 127\.0\.0\.1 is a loopback address; .*HERALD_ALLOW_NETWORKS/,
    );

    // Accepted before the allowlist was narrowed: refused at delivery instead, callbackUrl included.
    const {
      h: narrowed,
      ids,
      event,
    } = await acceptedThenNarrowed(urls, '127.0.0.2/32', `http://[::ffff:7f00:1]:${p4}/cb`);
    assert.equal(ids.length, urls.length - 1, 'all but the zone id (not a URL host) were saved');
    for (const [url, id] of ids) assertBlocked(url, await narrowed.attempts(id));
    const callback = await eventually(
      async () => {
        const res = await narrowed.api<{ data: (Attempt & { endpointId: string | null })[] }>(
          'GET',
          `/api/v1/projects/${narrowed.p}/events/${event.id}/attempts`,
        );
        return res.body.data.find((a) => a.endpointId === null);
      },
      8_000,
      'the callback attempt',
    );
    assert.equal(callback.error?.kind, 'blocked', JSON.stringify(callback));
    assert.equal(callback.response, null);
    assert.equal(blocked4.stats.accepted, 0, '127.0.0.1 saw a connection');
    assert.equal(blocked6.stats.accepted, 0, '::1 saw a connection');
  });

  test('the allowed host is delivered to, in its own spellings', async () => {
    const before = allowed.stats.requests;
    const urls = [
      `http://127.0.0.2:${allowed.port}/`,
      `http://2130706434:${allowed.port}/`,
      `http://[::ffff:127.0.0.2]:${allowed.port}/`,
    ];
    const ids = [];
    for (const url of urls) ids.push(await h.create(url));
    await h.send();
    for (const [i, id] of ids.entries()) {
      const [a] = await h.attempts(id!);
      assert.equal(a!.outcome, 'succeeded', `${urls[i]}: ${JSON.stringify(a!.error)}`);
    }
    assert.equal(allowed.stats.requests, before + urls.length);
  });

  test('redirects from the allowed receiver towards refused addresses are recorded, never followed', async () => {
    const targets = [
      `http://127.0.0.1:${blocked4.port}/`,
      `http://0x7f000001:${blocked4.port}/`,
      `http://localhost:${blocked4.port}/`,
      `http://[::1]:${blocked6.port}/`,
      `http://[::ffff:127.0.0.1]:${blocked4.port}/`,
    ];
    const cases: [string, string, number][] = [];
    for (const [i, target] of targets.entries()) {
      const status = [301, 302, 303, 307, 308][i]!;
      const url = `http://127.0.0.2:${redirects.port}/to/${status}/${encodeURIComponent(target)}`;
      cases.push([url, target, status]);
    }
    const ids = [];
    for (const [url] of cases) ids.push(await h.create(url));
    await h.send();
    for (const [i, id] of ids.entries()) {
      const [url, target, status] = cases[i]!;
      const list = await h.attempts(id!);
      assert.equal(list.length, 1, url);
      assert.equal(list[0]!.outcome, 'failed');
      assert.equal(list[0]!.error?.kind, 'http_status');
      assert.equal(list[0]!.response?.status, status);
      assert.equal(list[0]!.response?.headers.location, target);
    }
    assert.equal(blocked4.stats.accepted, 0);
    assert.equal(blocked6.stats.accepted, 0);
  });

  test('a URL changed by PATCH and a callbackUrl are refused the same way when accepted', async () => {
    const id = await h.create(`http://127.0.0.2:${allowed.port}/`);
    const patched = await h.api('PATCH', `/api/v1/projects/${h.p}/endpoints/${id}`, {
      url: `http://2130706433:${blocked4.port}/`,
    });
    assert.equal(patched.status, 422, JSON.stringify(patched.body));
    assert.match(JSON.stringify(patched.body), /body\.url: 127\.0\.0\.1 is a loopback address/);
    const callback = await h.api('POST', `/api/v1/projects/${h.p}/events/batch`, {
      events: [
        { type: 'ssrf.probe', payload: {}, callbackUrl: `http://127.0.0.2:${allowed.port}/cb` },
        { type: 'ssrf.probe', payload: {}, callbackUrl: `http://[::ffff:7f00:1]:${blocked4.port}/cb` },
      ],
    });
    assert.equal(callback.status, 422, JSON.stringify(callback.body));
    assert.match(
      JSON.stringify(callback.body),
      /body\.events\.1\.callbackUrl: \[::ffff:7f00:1\] is a loopback address/,
    );
    assert.equal(blocked4.stats.accepted, 0);
  });
});

describe('SSRF guard, HERALD_ALLOW_NETWORKS unset', () => {
  test('every loopback address is refused, the one allowed above included', async () => {
    const h = await heraldWith(null);
    const urls = [
      `http://127.0.0.2:${allowed.port}/`,
      `http://127.0.0.1:${blocked4.port}/`,
      `http://2130706433:${blocked4.port}/`,
      `http://[::1]:${blocked6.port}/`,
      `http://localhost:${blocked4.port}/`,
      `http://0:${blocked4.port}/`,
    ];
    const before = allowed.stats.accepted;
    for (const url of urls) assert.equal(await h.create(url), null, `${url}: refused when saved`);
    const { h: narrowed, ids } = await acceptedThenNarrowed(urls, null);
    assert.equal(ids.length, urls.length);
    for (const [url, id] of ids) assertBlocked(url, await narrowed.attempts(id));
    assert.equal(allowed.stats.accepted, before, '127.0.0.2 is private without an allowlist');
    assert.equal(blocked4.stats.accepted, 0);
    assert.equal(blocked6.stats.accepted, 0);
  });
});
