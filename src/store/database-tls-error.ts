/**
 * Failures of the TLS that HERALD_DATABASE_URL asks for (its sslmode, sslrootcert, sslcert and
 * sslkey, read by the pg driver): a server without TLS, a certificate that does not verify, a file
 * that cannot be read. Told apart so that the start says it is the database's TLS: the driver's
 * own words ("self-signed certificate", "ENOENT … open '/etc/…'") name neither.
 */
import { errorKindFromError } from '../domain/classify-outcome.ts';

/** pg's error when the URL asks for TLS and the server answers that it has none (no code). */
const SERVER_WITHOUT_TLS = 'The server does not support SSL connections';
/** The URL's parameters that name files the driver reads at each connection. */
const TLS_FILE_PARAMETERS = ['sslrootcert', 'sslcert', 'sslkey'] as const;

/**
 * The TLS of a connection to the database failed: the server has none, or its certificate does not
 * verify, or the handshake failed. It passes once the server's certificate or the URL is put right,
 * and meanwhile every new connection fails the same way: a database out of reach, for the API's
 * answers and the dispatcher's log lines (store-unavailable.ts).
 */
export function isDatabaseTlsFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (message === SERVER_WITHOUT_TLS) return true;
  // Certificate checks and handshake errors, as a delivery's are classified.
  return typeof code === 'string' && errorKindFromError(error) === 'tls';
}

/**
 * A file HERALD_DATABASE_URL's sslrootcert, sslcert or sslkey names could not be read when a
 * connection was to be opened (postgres/database-client.ts): every new connection fails so until
 * it can, so it counts as the database out of reach (store-unavailable.ts). Keeps the file error's
 * code, syscall and path; its message names the parameter and the file.
 */
export class DatabaseTlsFileError extends Error {
  readonly code: string;
  readonly syscall = 'open';
  readonly path: string;
  readonly parameter: string;

  private constructor(parameter: string, cause: { code?: unknown; path: string; message?: unknown }) {
    const code = typeof cause.code === 'string' ? cause.code : 'EIO';
    super(`cannot read the ${parameter} file of the database URL, ${cause.path}: ${code}`, { cause });
    this.name = 'DatabaseTlsFileError';
    this.code = code;
    this.path = cause.path;
    this.parameter = parameter;
  }

  /** `error` as one, if it is the failure to open a TLS file `databaseUrl` names; else null. */
  static from(error: unknown, databaseUrl: string | undefined): DatabaseTlsFileError | null {
    if (databaseUrl === undefined) return null;
    const parameter = unreadableDatabaseTlsFile(error, databaseUrl);
    if (parameter === null) return null;
    return new DatabaseTlsFileError(parameter, error as { code?: unknown; path: string });
  }
}

/** The URL's TLS file parameter (sslrootcert, sslcert, sslkey) whose file `error` failed to open, or null. */
export function unreadableDatabaseTlsFile(error: unknown, databaseUrl: string): string | null {
  if (error instanceof DatabaseTlsFileError) return error.parameter;
  if (typeof error !== 'object' || error === null) return null;
  const { path, syscall } = error as { path?: unknown; syscall?: unknown };
  if (syscall !== 'open' || typeof path !== 'string') return null;
  let params: URLSearchParams;
  try {
    params = new URL(databaseUrl).searchParams;
  } catch {
    return null;
  }
  return TLS_FILE_PARAMETERS.find((name) => params.get(name) === path) ?? null;
}
