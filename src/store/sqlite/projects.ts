/**
 * Project rows for the SQLite store. `write` runs a job in one transaction of the store's group
 * commit (group-commit.ts); a uid another project has becomes a conflict naming `uid`.
 */
import type { DatabaseSync } from 'node:sqlite';
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
import { all, get, run } from './db-helpers.ts';
import { toProject } from './rows.ts';

type Write = <T>(job: () => T) => Promise<T>;

const optJson = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

export async function createProjectSqlite(
  db: DatabaseSync,
  write: Write,
  input: NewProject,
  now: number,
): Promise<Project> {
  const id = newId(ID_PREFIX.project, now);
  await writeProject(write, () =>
    run(
      db,
      `INSERT INTO projects (id, project_id, uid, name, retry_schedule, enforce_catalog, backlog_limit, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      id,
      input.uid ?? null,
      input.name,
      optJson(input.retrySchedule),
      input.enforceCatalog ? 1 : 0,
      input.backlogLimit ?? null,
      now,
      now,
    ),
  );
  return toProject(get(db, 'SELECT * FROM projects WHERE id = ?', id)!);
}

/**
 * By id, or by uid when no project has that id. A project whose delete has begun (`deleting`,
 * project-delete.ts) is not found, nor listed below.
 */
export function projectSqlite(db: DatabaseSync, idOrUid: string): Project | null {
  const row =
    get(db, 'SELECT * FROM projects WHERE id = ? AND NOT deleting', idOrUid) ??
    get(db, 'SELECT * FROM projects WHERE uid = ? AND NOT deleting', idOrUid);
  return row ? toProject(row) : null;
}

export function listProjectsSqlite(db: DatabaseSync, q: PageQuery): Page<Project> {
  const after = decodeCursor(q.cursor);
  const rows = after
    ? all(
        db,
        'SELECT * FROM projects WHERE id < ? AND NOT deleting ORDER BY id DESC LIMIT ?',
        after,
        q.limit + 1,
      )
    : all(db, 'SELECT * FROM projects WHERE NOT deleting ORDER BY id DESC LIMIT ?', q.limit + 1);
  return toPage(rows.map(toProject), q.limit, (p) => p.id);
}

export async function updateProjectSqlite(
  db: DatabaseSync,
  write: Write,
  projectId: string,
  patch: ProjectPatch,
  now: number,
): Promise<Project | null> {
  // Read in the write: the patch applies to the project as it is then, not as it was before
  // waiting for the write lock (two PATCHes at once would each write back the other's fields).
  const found = await writeProject(write, () => {
    const cur = projectById(db, projectId);
    if (!cur) return false;
    const next = { ...cur, ...patch };
    run(
      db,
      `UPDATE projects SET name = ?, uid = ?, retry_schedule = ?, enforce_catalog = ?, backlog_limit = ?,
         updated_at = ? WHERE id = ?`,
      next.name,
      next.uid ?? null,
      optJson(next.retrySchedule),
      next.enforceCatalog ? 1 : 0,
      next.backlogLimit ?? null,
      now,
      projectId,
    );
    return true;
  });
  return found ? projectById(db, projectId) : null;
}

/** One write of a project row; a uid another project has becomes a conflict naming `uid`. */
function writeProject<T>(write: Write, job: () => T): Promise<T> {
  return write(() => {
    try {
      return job();
    } catch (error) {
      throw uniqueViolation(error, 'uid', 'a project with this uid exists');
    }
  });
}

/**
 * Increments the project's portal_links_generation and sets its portal_links_not_before to `now`,
 * or keeps a later one, in one UPDATE (two revocations at once add two).
 */
export async function revokePortalLinksSqlite(
  db: DatabaseSync,
  write: Write,
  projectId: string,
  now: number,
): Promise<boolean> {
  return write(
    () =>
      run(
        db,
        `UPDATE projects SET portal_links_generation = portal_links_generation + 1,
           portal_links_not_before = MAX(COALESCE(portal_links_not_before, 0), ?) WHERE id = ?`,
        now,
        projectId,
      ) > 0,
  );
}

function projectById(db: DatabaseSync, projectId: string) {
  const row = get(db, 'SELECT * FROM projects WHERE id = ? AND NOT deleting', projectId);
  return row ? toProject(row) : null;
}

function uniqueViolation(error: unknown, field: string, message: string): unknown {
  return error instanceof Error && /UNIQUE constraint failed/.test(error.message)
    ? new StoreConflictError(field, message, { cause: error })
    : error;
}
