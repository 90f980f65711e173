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
 * What in the database URL the error is about: `'tls'` for the handshake or the certificate, the
 * name of a TLS file parameter whose file could not be read, or null when it is not about TLS.
 */
export function databaseTlsProblem(error: unknown, databaseUrl: string): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const { message, path, syscall } = error as { message?: unknown; path?: unknown; syscall?: unknown };
  if (message === SERVER_WITHOUT_TLS) return 'tls';
  if (syscall === 'open' && typeof path === 'string') {
    let params: URLSearchParams;
    try {
      params = new URL(databaseUrl).searchParams;
    } catch {
      return null;
    }
    return TLS_FILE_PARAMETERS.find((name) => params.get(name) === path) ?? null;
  }
  // Certificate checks and handshake errors, as a delivery's are classified.
  return (error as { code?: unknown }).code !== undefined && errorKindFromError(error) === 'tls'
    ? 'tls'
    : null;
}
