/**
 * Listings of the PostgreSQL store under a page's byte budget (page-budget.ts). The page's rows
 * are fetched with the bytes before each (a window sum), and rows starting past the budget are
 * left in the database, not sent: what the query returns is the page.
 */
import { pageBudget } from '../page-budget.ts';
import type { Row } from './rows.ts';

/**
 * The bytes of a JSON column as text, without decoding small values: under 2 KB stored, the stored
 * size is taken (the length itself, give or take a header byte, unless PostgreSQL compressed the
 * value inline to fit a wide row: then a few KB per row go uncounted, at most a few MB a page);
 * a larger value is measured as text inside the database.
 */
export const jsonBytes = (column: string) =>
  `CASE WHEN pg_column_size(${column}) < 2048 THEN pg_column_size(${column}) ELSE octet_length(${column}::text) END`;

/**
 * The catalog's order: event-type names by code point, as SQLite's BINARY compares them, whatever
 * the database's collation. In a language's collation (`createdb` on a host with an en_US locale,
 * or ICU) 'a' sorts before 'B': the catalog was listed in another order than on SQLite, and a
 * cursor made on SQLite before `herald copy-to-postgres` (a name) started the next page at the wrong
 * place. Ids need no such care: they are lower-case letters and digits after a fixed prefix, in
 * the same order in every collation.
 */
export const NAME_ORDER = 'name COLLATE "C"';

/**
 * `inner` selects the candidate rows (`limit + 1` of them, in page order: `order`, by default
 * `id DESC`) with a `bytes` column; the result keeps those starting within the budget, with
 * `fetched` (how many candidates there were), for budgetCut.
 */
export function budgetedListSql(inner: string, order: 'id DESC' | typeof NAME_ORDER = 'id DESC'): string {
  return `SELECT * FROM (
      SELECT p.*, sum(p.bytes) OVER (ORDER BY p.${order}) - p.bytes AS bytes_before, count(*) OVER () AS fetched
      FROM (${inner}) p
    ) q WHERE bytes_before < ${pageBudget.bytes} ORDER BY ${order}`;
}

/** Whether the budget left candidates out (then more rows follow the page). */
export function budgetCut(rows: Row[]): boolean {
  return rows.length > 0 && rows.length < Number(rows[0]!.fetched);
}
