/**
 * The PostgreSQL counterpart of sqlite-query-plans.ts, defined by postgres.test.ts right after its
 * conformance suite. Every statement the PostgreSQL store sends while the whole suite runs is
 * collected with its parameters and the SET LOCAL planner settings its transaction gave it.
 * PostgreSQL plans by statistics, so they are judged on a database of a production's shape
 * (postgres-seed.ts: 50 projects, 500 endpoints, 200,000 events, deliveries and attempts, mostly
 * delivered, one tenant half of them), vacuumed and analysed as autovacuum leaves it. Each
 * statement is EXPLAINed (not run) twice, its project and endpoint ids swapped for the large
 * tenant's and for a small one's, and its plan must not read a big table with a Seq Scan. A scan
 * bounded by design is listed in ALLOWED with the reason. The statements are those of
 * postgres.test.ts's own run of the suite, not of a second run in a file of their own (about 25 s
 * more); the plans (about 1,000 statements, each twice) take about 1 s.
 *
 * The seed (about 7 s of the server's CPU alone, 28 s at a load of 11) is made while the suite
 * runs, from the file's first test on, in a database of its own: the suite's tests wait on round
 * trips one at a time and leave the server's second core idle, and the seed took that long after
 * the suite, in the file's longest wait. Its own statements are not collected (its connection is
 * left out), so what is judged is what the store sent, as before; the plans are judged once the
 * suite is done, on the seeded database as the seed left it.
 *
 * That is in a whole run only. A run that picks its tests (--test-name-pattern and the like) still
 * runs the file's root hooks, and node:test tells none of them which tests it picked: the seed
 * started there ran beside whatever test was picked (the HOT-update test failed beside it, 86 of
 * 100 HOT), and for nothing unless the guard was among them. There the guard makes it itself.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import type { TestPostgres } from '../support/postgres.ts';
import { runEveryListingShape } from './listing-shapes.ts';
import { seedProduction, TENANTS } from './postgres-seed.ts';

/** The tables that grow with traffic: a plan must reach their rows through an index. */
const BIG_TABLES = ['events', 'deliveries', 'attempts', 'operational_events', 'idempotency_keys'];

/**
 * Scans of a big table that are bounded by design, by a part of the statement's text, with why.
 * Each is planned for the large tenant only: the small one's plans of them read an index.
 */
const ALLOWED: { sql: RegExp; why: string }[] = [
  {
    sql: /^(DELETE FROM \w+|SELECT 1 FROM deliveries) WHERE project_id = \$1( AND (true|(id|key) > \$2( AND (id|key) <= \$3)?))?( ORDER BY id FOR UPDATE)?$/,
    why:
      "deleteProjectPostgres: a chunk is a range of the primary key up to chunkEnd's bound (rows and " +
      "bytes), but the suite's only chunk is its small project's whole history from '', so planned " +
      'for the large tenant it is half the table. The last transaction finds only leftovers, yet ' +
      'until autoanalyze the statistics still count the rows the chunks deleted, and an index path ' +
      'visits their dead entries too: after deleting the large tenant here, unvacuumed, the scan ' +
      'took 27 ms to lock its deliveries against 65 ms by deliveries_endpoint (deletes: deliveries ' +
      '26 against 16 ms, attempts 35 against 40, events 13 against 25)',
  },
  {
    sql: /^SELECT \* FROM \( SELECT p\.\*.* FROM (events|attempts) WHERE .*\b(idempotency_key|event_type) = \$\d+ ORDER BY id DESC LIMIT \$\d+\) p \) q/,
    why:
      'a filter no index serves (history-reads.ts): boundScan bounds it to the newest SCAN_ROWS rows ' +
      'the other filters select (id >= the last of them), or it runs unbounded only when fewer are ' +
      "left. The suite's bounds span its small project, so for the large tenant they span its " +
      "history; with the bound a request makes (the large tenant's 10,000th newest attempt), a rare " +
      'event type reads 9,880 rows by attempts_pkey, 3.4 ms',
  },
  {
    sql: /^SELECT \* FROM operational_events WHERE project_id = \$1 .*AND data->>'endpointId' = \$\d+ ORDER BY id DESC LIMIT \$\d+$/,
    why:
      'the same bounded filter on operational events (boundScan): an endpoint named in the data, ' +
      'which no index serves, read among the newest SCAN_ROWS of the project',
  },
];

interface Collected {
  values: unknown[];
  /** The SET LOCAL statements sent before it in its transaction. */
  settings: string[];
}

// Collected where every client hands a query to its connection (as query-counter.ts counts them):
// the pool's clients wrap their `query`, so the prototype's is not what they call.
type Submit = (this: { text?: unknown; values?: unknown[] }, connection: object) => unknown;
const proto = (pg as unknown as { Query: { prototype: { submit: Submit } } }).Query.prototype;

/**
 * Collects every statement sent from now until its test runs, then defines (after the tests
 * defined before it, so after the conformance suite) the listings run with every combination of
 * their filters and the guard itself, on databases of `server`. `migratedDatabase` makes the
 * database seeded meanwhile (see above).
 */
export function definePostgresPlanGuard(server: TestPostgres, migratedDatabase: () => Promise<string>): void {
  const statements = new Map<string, Collected>();
  const settingsOf = new WeakMap<object, string[]>();
  /** The seed's connection: what it sends is not the store's. */
  const notCollected = new WeakSet<object>();
  const submit = proto.submit;
  const stopCollecting = () => {
    proto.submit = submit;
  };
  let seeded: Promise<string> | undefined;
  const seed = (): Promise<string> => {
    if (!seeded) {
      seeded = seededDatabase(migratedDatabase, notCollected);
      // Awaited by the guard's test; a failure before then is its failure, not an unhandled one.
      seeded.catch(() => undefined);
    }
    return seeded;
  };
  if (!picksTests()) {
    before(() => {
      void seed();
    });
  }
  proto.submit = function (this: { text?: unknown; values?: unknown[] }, connection: object) {
    if (notCollected.has(connection)) return submit.call(this, connection);
    const text = String(this.text ?? '');
    if (/^\s*(BEGIN|COMMIT|ROLLBACK|END)\b/i.test(text)) settingsOf.set(connection, []);
    const sets = text.match(/SET LOCAL [^;]+/gi);
    if (sets) settingsOf.set(connection, [...(settingsOf.get(connection) ?? []), ...sets]);
    else if (/^\s*(WITH|SELECT|INSERT|UPDATE|DELETE)\b/i.test(text) && !statements.has(text))
      statements.set(text, { values: this.values ?? [], settings: settingsOf.get(connection) ?? [] });
    return submit.call(this, connection);
  };
  after(stopCollecting);

  test('the listings, run with every combination of their filters', async () => {
    const store = await openStore(await server.createDatabase());
    try {
      await runEveryListingShape(store);
    } finally {
      await store.close();
    }
  });

  test('no statement the store ran scans a big table of a seeded, analysed database', async () => {
    stopCollecting();
    await judgePlans(server, await seed(), statements);
  });
}

/**
 * Whether this run picks tests by name or `only` (given to node or to the file's process by
 * `node --test`, which passes its options on as flags).
 */
function picksTests(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((flag) => /^--test-(name-pattern|skip-pattern|only)\b/.test(flag));
}

/** A migrated database of `server`, seeded (postgres-seed.ts) by a connection in `notCollected`. */
async function seededDatabase(
  migratedDatabase: () => Promise<string>,
  notCollected: WeakSet<object>,
): Promise<string> {
  const url = await migratedDatabase();
  const client = new pg.Client({ connectionString: url });
  notCollected.add((client as unknown as { connection: object }).connection);
  // A connection lost with the server (one stopped under it) fails its statement, and so
  // `seeded`, which the guard awaits; without a listener the client's 'error' was uncaught too, and
  // failed the file after its tests had passed.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const started = Date.now();
    await seedProduction(client);
    console.log(`seeded in ${Date.now() - started} ms, while the suite ran`);
  } finally {
    await client.end();
  }
  return url;
}

type Tenant = (typeof TENANTS)[keyof typeof TENANTS];
/** A statement's parameters with its project and endpoint ids swapped for the tenant's. */
const swapIds = (value: unknown, to: Tenant): unknown =>
  Array.isArray(value)
    ? value.map((v) => swapIds(v, to))
    : typeof value === 'string' && /^prj_[0-9a-z]{26}$/.test(value)
      ? to.project
      : typeof value === 'string' && /^ep_[0-9a-z]{26}$/.test(value)
        ? to.endpoint
        : value;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}
const scanned = (node: PlanNode): string[] => [
  ...(node['Node Type'] === 'Seq Scan' && BIG_TABLES.includes(node['Relation Name'] ?? '')
    ? [node['Relation Name']!]
    : []),
  ...(node.Plans ?? []).flatMap(scanned),
];
/** The big tables a plan of `sql` reads with a Seq Scan, on the database at `url`. */
async function explainScans(url: string, sql: string, params: unknown[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return scanned(rows[0]['QUERY PLAN'][0].Plan as PlanNode);
  } finally {
    await client.end();
  }
}
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/**
 * Fails on a collected statement whose plan scans a big table of the seeded database at `url`. The
 * database is dropped after: the file's later tests share its server.
 */
async function judgePlans(
  server: TestPostgres,
  url: string,
  statements: Map<string, Collected>,
): Promise<void> {
  try {
    await judgePlansOn(url, statements);
  } finally {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

async function judgePlansOn(url: string, statements: Map<string, Collected>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const problems: string[] = [];
  let explained = 0;
  try {
    const started = Date.now();
    for (const [sql, { values, settings }] of statements)
      for (const [tenant, ids] of Object.entries(TENANTS)) {
        await client.query('BEGIN');
        try {
          for (const setting of settings) await client.query(setting);
          const params = values.map((v) => swapIds(v, ids));
          const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
          explained++;
          const tables = scanned(rows[0]['QUERY PLAN'][0].Plan as PlanNode);
          if (!tables.length || (tenant === 'large' && ALLOWED.some((a) => a.sql.test(oneLine(sql)))))
            continue;
          problems.push(
            `scans ${[...new Set(tables)].join(', ')} for the ${tenant} tenant` +
              `${settings.length ? ` (${settings.join('; ')})` : ''}: ${oneLine(sql)}`,
          );
        } finally {
          await client.query('ROLLBACK');
        }
      }
    console.log(`${explained} plans in ${Date.now() - started} ms`);
  } finally {
    await client.end();
  }
  // The check finds a scan where there is one.
  const known = await explainScans(url, 'SELECT * FROM events WHERE payload::text = $1', ['{}']);
  assert.deepEqual(known, ['events']);
  // The suite ran: a filtered run (--test-name-pattern) collects too little to judge.
  assert.ok(explained >= 100, `only ${explained} statements were collected`);
  assert.deepEqual(problems, [], `${problems.length} statements:\n${problems.join('\n')}`);
}
