/**
 * The node-postgres clients of Herald's pools and of its LISTEN connection. node-postgres reads the
 * files the URL's sslrootcert, sslcert and sslkey name in the client's constructor, so at each new
 * connection: one removed or unreadable while Herald runs (a certificate rotation that deletes
 * before it writes) made the constructor throw out of pg-pool, an error nothing classified (a 500
 * per request), and thrown synchronously where the pool hands a failed connection's place to the
 * next caller waiting. Here such a client is made all the same, and its `connect` fails with that
 * error: a connection that cannot be opened, the database out of reach until the file is readable.
 */
import pg from 'pg';
import { DatabaseTlsFileError } from '../database-tls-error.ts';

/** A client for `config`; one whose TLS files cannot be read fails to connect, not to be made. */
export function databaseClient(config: pg.ClientConfig): pg.Client {
  try {
    return new ClosedOnFailure(config);
  } catch (error) {
    const unreadable = DatabaseTlsFileError.from(error, config.connectionString);
    if (!unreadable) throw error;
    return new UnopenableClient(config, unreadable);
  }
}

/** A client that is never connected: made without the URL, whose files could not be read. */
class UnopenableClient extends pg.Client {
  readonly #failure: Error;

  constructor(config: pg.ClientConfig, failure: Error) {
    super({ ...config, connectionString: undefined });
    this.#failure = failure;
  }

  override connect(): Promise<pg.Client>;
  override connect(callback: (error: Error) => void): void;
  override connect(callback?: (error: Error) => void): Promise<pg.Client> | undefined {
    if (!callback) return Promise.reject(this.#failure);
    process.nextTick(callback, this.#failure);
    return undefined;
  }
}

/**
 * A client whose connection is closed when it fails to connect. node-postgres leaves the socket open
 * after a failure during the login (a SCRAM password asked for and none given: its error is raised
 * in the client, not by the server), and pg-pool drops such a client without ending it: the server
 * waited for the rest of the login until its authentication_timeout (60 s by default), and the
 * socket kept the process alive as long (`herald migrate` printed its error, then hung a minute).
 */
class ClosedOnFailure extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: (error: Error) => void): void;
  override connect(callback?: (error: Error) => void): Promise<pg.Client> | undefined {
    if (!callback)
      return super.connect().catch((error: unknown) => {
        this.#close();
        throw error;
      });
    super.connect((error: Error) => {
      if (error) this.#close();
      callback(error);
    });
    return undefined;
  }

  #close(): void {
    this.end().catch(() => undefined);
  }
}
