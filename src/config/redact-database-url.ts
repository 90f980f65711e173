/**
 * The database URL as it may be shown in logs and on the console: a PostgreSQL password becomes
 * `***`, in the user part and in the query string. SQLite URLs carry no credentials and are
 * returned unchanged.
 */
export function redactDatabaseUrl(databaseUrl: string): string {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    // A password can also ride in the query string: ?password=…, ?sslpassword=… (the TLS client
    // key's passphrase), or any other parameter named like a credential.
    for (const name of new Set(url.searchParams.keys())) {
      if (SECRET_PARAMETER.test(name)) url.searchParams.set(name, '***');
    }
    return url.href;
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/** Query parameters whose value is masked: password, sslpassword, passfile, …secret…, …token…. */
const SECRET_PARAMETER = /pass|secret|token/i;
