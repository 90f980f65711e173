/**
 * The database URL as it may be shown in logs and on the console: a PostgreSQL password becomes
 * `***`. SQLite URLs carry no credentials and are returned unchanged.
 */
export function redactDatabaseUrl(databaseUrl: string): string {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    // A password can also ride in the query string (?password=…).
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.href;
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
