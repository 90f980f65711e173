/** Project rows for the PostgreSQL store; a uid another project has becomes a conflict naming `uid`. */
import type pg from 'pg';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { Project } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import {
  type NewProject,
  type Page,
  type PageQuery,
  type ProjectPatch,
  StoreConflictError,
} from '../store.ts';
import { type Row, toProject } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const one = async (db: Queryable, sql: string, params: unknown[]): Promise<Row | undefined> =>
  ((await db.query(sql, params)).rows as Row[])[0];

export async function createProjectPostgres(db: Queryable, input: NewProject, now: number): Promise<Project> {
  const id = newId(ID_PREFIX.project, now);
  try {
    const row = await one(
      db,
      `INSERT INTO projects (id, project_id, uid, name, retry_schedule, enforce_catalog, backlog_limit,
         created_at, updated_at)
       VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $7) RETURNING *`,
      [
        id,
        input.uid ?? null,
        input.name,
        optJson(input.retrySchedule),
        input.enforceCatalog ?? false,
        input.backlogLimit ?? null,
        now,
      ],
    );
    return toProject(row!);
  } catch (error) {
    throw uniqueViolation(error, 'uid', 'a project with this uid exists');
  }
}

/**
 * By id, or by uid when no project has that id. A project whose delete has begun (`deleting`,
 * project-delete.ts) is not found, nor listed below.
 */
export async function projectPostgres(db: Queryable, idOrUid: string): Promise<Project | null> {
  const row =
    (await one(db, 'SELECT * FROM projects WHERE id = $1 AND NOT deleting', [idOrUid])) ??
    (await one(db, 'SELECT * FROM projects WHERE uid = $1 AND NOT deleting', [idOrUid]));
  return row ? toProject(row) : null;
}

export async function listProjectsPostgres(db: Queryable, q: PageQuery): Promise<Page<Project>> {
  const after = decodeCursor(q.cursor);
  const rows = (
    after
      ? await db.query('SELECT * FROM projects WHERE id < $1 AND NOT deleting ORDER BY id DESC LIMIT $2', [
          after,
          q.limit + 1,
        ])
      : await db.query('SELECT * FROM projects WHERE NOT deleting ORDER BY id DESC LIMIT $1', [q.limit + 1])
  ).rows as Row[];
  return toPage(rows.map(toProject), q.limit, (p) => p.id);
}

export async function updateProjectPostgres(
  db: Queryable,
  projectId: string,
  patch: ProjectPatch,
  now: number,
): Promise<Project | null> {
  // Locked until the transaction ends: a PATCH at the same time applies its fields to this one's
  // result, not to the row as both read it (each would write back the other's fields). NO KEY
  // UPDATE: accept batches hold the row FOR KEY SHARE (accept-batch.ts), and need not wait.
  const row = await one(db, 'SELECT * FROM projects WHERE id = $1 AND NOT deleting FOR NO KEY UPDATE', [
    projectId,
  ]);
  if (!row) return null;
  const next = { ...toProject(row), ...patch };
  try {
    const updated = await one(
      db,
      `UPDATE projects SET name = $1, uid = $2, retry_schedule = $3, enforce_catalog = $4, backlog_limit = $5,
         updated_at = $6
       WHERE id = $7 RETURNING *`,
      [
        next.name,
        next.uid ?? null,
        optJson(next.retrySchedule),
        next.enforceCatalog,
        next.backlogLimit ?? null,
        now,
        projectId,
      ],
    );
    return updated ? toProject(updated) : null;
  } catch (error) {
    throw uniqueViolation(error, 'uid', 'a project with this uid exists');
  }
}

/**
 * Increments the project's portal_links_generation and sets its portal_links_not_before to `now`,
 * or keeps a later one, in one UPDATE (atomic: two revocations at once add two).
 */
export async function revokePortalLinksPostgres(
  db: Queryable,
  projectId: string,
  now: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE projects SET portal_links_generation = portal_links_generation + 1,
       portal_links_not_before = GREATEST(COALESCE(portal_links_not_before, 0), $1) WHERE id = $2`,
    [now, projectId],
  );
  return (rowCount ?? 0) > 0;
}

function uniqueViolation(error: unknown, field: string, message: string): unknown {
  return error instanceof Error && (error as { code?: unknown }).code === '23505'
    ? new StoreConflictError(field, message, { cause: error })
    : error;
}
