/**
 * What copying a SQLite installation into PostgreSQL copies, and how each column is carried over
 * (`herald copy-to-postgres`, copy-tables.ts). Pure: the schemas' columns come in as read from each
 * database, so a migration added to one store and not the other is caught here (the copy is
 * refused, naming the column) instead of silently dropping or nulling what it holds.
 */

/**
 * Every Herald table, parents before children (PostgreSQL's foreign keys: api_keys and endpoints
 * reference projects; the rest have none there, but keep the domain's order). schema_migrations is
 * not copied: the target records its own migrations. There is no sequence to move past the copied
 * ids: every id is text made by newId (time-ordered, domain/ids.ts), and the one counter both
 * schemas keep (projects.portal_links_generation, what revoked portal links) is copied as it is.
 */
export const COPY_ORDER = [
  'event_types',
  'projects',
  'api_keys',
  'endpoints',
  'endpoint_secrets',
  'endpoint_rate_limits',
  'events',
  'idempotency_keys',
  'deliveries',
  'attempts',
  'operational_events',
] as const;
export type CopiedTable = (typeof COPY_ORDER)[number];

/**
 * SQLite-only columns, left behind: projects' fan_out_version and dispatch_version are counters
 * the SQLite store's triggers keep so its caches know when to read endpoints again (migrations 0005,
 * 0006); PostgreSQL's store keeps no such counter.
 */
export const SQLITE_ONLY: Readonly<Partial<Record<CopiedTable, readonly string[]>>> = {
  projects: ['fan_out_version', 'dispatch_version'],
};

/**
 * SQLite-only tables, left behind: endpoint_changes counts the active endpoints' changes for the
 * SQLite store's claims (migration 0022), and endpoint_change_projects names the project of each
 * of the last ones (migration 0025), kept by its triggers; PostgreSQL's store keeps neither (its
 * claims hear of changes by notices).
 */
export const SQLITE_ONLY_TABLES: readonly string[] = ['endpoint_changes', 'endpoint_change_projects'];

/**
 * Columns of the target with the value every copied row gets, whatever SQLite holds, if it has
 * them at all: deliveries.lease_until is the end of the delivery's last lease (postgres migration
 * 0005; SQLite keeps it too since its migration 0026), which names a claim for its hand-back, and
 * no claim is carried over (see deliveryRow).
 */
export const SET_ON_COPY: Readonly<Partial<Record<CopiedTable, Readonly<Record<string, null>>>>> = {
  deliveries: { lease_until: null },
};

/** A column of the target, with the PostgreSQL type its values are cast to. */
export interface TargetColumn {
  name: string;
  /** information_schema.columns.data_type: boolean, json, bigint, integer, double precision, text. */
  type: string;
}

/** How one table is copied: the columns read from SQLite, and the target's columns in insert order. */
export interface TablePlan {
  table: CopiedTable;
  /** Columns selected from SQLite (those both schemas have but SET_ON_COPY), in the order of `target`'s first ones. */
  source: string[];
  /** Every target column: the shared ones first (as `source`), then those set on copy (SET_ON_COPY). */
  target: TargetColumn[];
}

/**
 * Plans every table from the columns each database has, or throws naming every difference between
 * the two schemas that this copy does not know how to carry over (a table or column on one side
 * only), so an unknown column is never lost or left to a default without a word.
 */
export function planCopy(
  sqlite: ReadonlyMap<string, readonly string[]>,
  postgres: ReadonlyMap<string, readonly TargetColumn[]>,
): TablePlan[] {
  const problems: string[] = [];
  const plans: TablePlan[] = [];
  const known = new Set<string>([...COPY_ORDER, 'schema_migrations']);
  for (const [side, tables] of [
    ['SQLite', [...sqlite.keys()].filter((table) => !SQLITE_ONLY_TABLES.includes(table))],
    ['PostgreSQL', [...postgres.keys()]],
  ] as const) {
    for (const table of tables) if (!known.has(table)) problems.push(`table ${table} (${side} only)`);
  }
  for (const table of COPY_ORDER) {
    const from = sqlite.get(table);
    const to = postgres.get(table);
    if (!from || !to) {
      problems.push(`table ${table} missing on ${from ? 'PostgreSQL' : 'SQLite'}`);
      continue;
    }
    const toNames = new Set(to.map((c) => c.name));
    const fromNames = new Set(from);
    const dropped = SQLITE_ONLY[table] ?? [];
    const defaulted = SET_ON_COPY[table] ?? {};
    for (const column of from) {
      if (!toNames.has(column) && !dropped.includes(column))
        problems.push(`${table}.${column} (SQLite only)`);
    }
    for (const column of toNames) {
      if (!fromNames.has(column) && !(column in defaulted))
        problems.push(`${table}.${column} (PostgreSQL only)`);
    }
    const shared = to.filter((c) => fromNames.has(c.name) && !(c.name in defaulted));
    const only = to.filter((c) => !shared.includes(c));
    plans.push({ table, source: shared.map((c) => c.name), target: [...shared, ...only] });
  }
  if (problems.length > 0) {
    throw new Error(
      `the SQLite and PostgreSQL schemas differ in a way this version cannot copy: ${problems.join(', ')}`,
    );
  }
  return plans;
}

/**
 * One SQLite row as the target's values, in `plan.target` order: 0/1 become booleans, JSON text
 * stays the same text (cast to json, which keeps it byte for byte), epoch ms stay numbers, and the
 * columns set on copy get their value (SET_ON_COPY). `now`: when the copy runs (a claim's reset, below).
 */
export function targetValues(plan: TablePlan, row: Record<string, unknown>, now: number): unknown[] {
  const source = plan.table === 'deliveries' ? deliveryRow(row, now) : row;
  return plan.target.map((column) => {
    if (!plan.source.includes(column.name)) return SET_ON_COPY[plan.table]?.[column.name] ?? null;
    return convert(plan.table, column, source[column.name]);
  });
}

/**
 * A delivery claimed when SQLite stopped (leased_by set: the process was killed mid-send, or its
 * stop did not wait for the send) is due at once on PostgreSQL, unclaimed, in its place in the due
 * order (from when it became due, due_since): SQLite kept the lease's end in next_attempt_at and
 * held_until, which would leave it waiting out a lease no process holds, behind what came due
 * meanwhile. `herald serve` on SQLite does the same at start (releaseClaims). Its receiver may get
 * it twice (at least once).
 */
export function deliveryRow(row: Record<string, unknown>, now: number): Record<string, unknown> {
  if (row.leased_by === null || row.leased_by === undefined) return row;
  const dueSince = typeof row.due_since === 'number' ? Math.min(row.due_since, now) : now;
  return {
    ...row,
    leased_by: null,
    held_until: null,
    next_attempt_at: row.status === 'pending' ? dueSince : row.next_attempt_at,
  };
}

/** Whether a SQLite delivery row holds a claim the copy resets (deliveryRow). */
export const isClaimed = (row: Record<string, unknown>): boolean =>
  row.leased_by !== null && row.leased_by !== undefined;

function convert(table: string, column: TargetColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const wrong = () =>
    new Error(
      `${table}.${column.name}: cannot copy the SQLite value ${JSON.stringify(String(value).slice(0, 40))} into a ${column.type} column`,
    );
  switch (column.type) {
    case 'boolean':
      if (value === 0 || value === 1) return value === 1;
      throw wrong();
    case 'bigint':
    case 'integer':
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      throw wrong();
    case 'double precision':
      if (typeof value === 'number') return value;
      throw wrong();
    case 'json':
    case 'text':
      if (typeof value === 'string') return value;
      throw wrong();
    default:
      throw new Error(
        `${table}.${column.name}: this version does not know how to copy a ${column.type} column`,
      );
  }
}

/** A JSON or text value's size in bytes as sent (UTF-16 length: an upper bound within 3x). */
export function rowBytes(values: readonly unknown[]): number {
  let bytes = 0;
  for (const v of values) bytes += typeof v === 'string' ? v.length : 8;
  return bytes;
}
