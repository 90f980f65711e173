/**
 * A `schema_migrations` table that is not Herald's. Herald records its migrations in a table of
 * that name (name, applied_at), and so do other tools in theirs (Rails, Ecto and golang-migrate:
 * a version column): pointed at such an application's database, the runner failed with `column
 * "name" does not exist` (PostgreSQL) or `no such column: name` (SQLite), which does not say why.
 */

/** The columns of Herald's own schema_migrations. */
const HERALD_COLUMNS = ['name', 'applied_at'];

/** The refusal of a database whose schema_migrations has `columns`, or null when it is Herald's. */
export function foreignMigrationsTable(columns: readonly string[]): Error | null {
  if (HERALD_COLUMNS.every((c) => columns.includes(c))) return null;
  return new Error(
    `the database holds a table schema_migrations that is not Herald's (its columns: ${columns.join(', ')}): another tool records its migrations there (Rails, Ecto and golang-migrate name theirs so), and Herald records its own in a table of that name. Give Herald a database of its own (createdb herald, or another SQLite file); nothing was changed`,
  );
}
