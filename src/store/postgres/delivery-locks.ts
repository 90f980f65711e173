/**
 * The order every PostgreSQL write of several deliveries locks them in: key order (project_id, id),
 * after the endpoints it locks (endpoint-writes.ts lockEndpointPostgres), so two writes never wait
 * for each other in a cycle. The database sorts them: an UPDATE joined to an `unnest` of keys locks
 * rows in the order of whatever plan it gets, the array's on a nested loop (a large table) but the
 * table's on a hash join (a small one), so sorting the array was not enough; a `SELECT … ORDER BY …
 * FOR NO KEY UPDATE` locks rows as its sort hands them over, whatever the plan.
 */
import type pg from 'pg';

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * `values`, an `unnest(…) AS v(project_id, id, …)`, joined to the deliveries it names that meet
 * `condition` (on `l`, the delivery, and `v`), those locked in key order: a subquery `v` for an
 * `UPDATE deliveries d … FROM` to join by key (d.project_id = v.project_id AND d.id = v.id). Every
 * row it returns has its delivery, so the UPDATE reads it whole, whatever its join. The condition is
 * checked again on a row another transaction changed meanwhile, once it is locked. `locked`: more
 * columns of the locked row (`, l.status AS was`), as it was just before the UPDATE changes it.
 */
export const lockedInKeyOrder = (
  values: string,
  condition = 'true',
  locked = '',
): string => `(SELECT v.*${locked} FROM deliveries l
       JOIN ${values} ON l.project_id = v.project_id AND l.id = v.id
       WHERE ${condition}
       ORDER BY l.project_id, l.id FOR NO KEY UPDATE OF l) v`;

/**
 * Locks the deliveries of `keys` that exist (FOR NO KEY UPDATE, what an UPDATE of them takes) in key
 * order, in one statement: for a write that then changes them in several statements, each of which
 * locks its own in key order, but one after the other not all of them.
 */
export async function lockDeliveriesPostgres(
  c: Queryable,
  keys: { projectId: string; deliveryId: string }[],
): Promise<void> {
  if (keys.length === 0) return;
  await c.query(
    `SELECT 1 FROM deliveries WHERE (project_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
     ORDER BY project_id, id FOR NO KEY UPDATE`,
    [keys.map((k) => k.projectId), keys.map((k) => k.deliveryId)],
  );
}
